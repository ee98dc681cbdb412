"""Notable moments: sustained changes in what the class's faces showed, over every expression group.

A moment is where a group's share of the faces read in the window after a time differs from the window before
it by at least ``min_change`` (in percentage points) *and* by more than chance allows for the number of face
readings behind the two windows (a two-proportion z-test), so one face flickering between expressions is not a
moment, while the same step seen on thirty faces is. Changes in several groups at once (positive up as neutral
goes down) are one moment, described by its largest rise and its largest fall.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from fer.app.clock import clock
from fer.app.report import faces_read, group_shares
from fer.engine.aggregate import GROUPS

MIN_CHANGE = 0.20  # 20 percentage points
MIN_Z = 3.5  # many boundaries are tested per session: a stricter bar than one test would need
GROUP_PHRASES = {
    "positive": "positive expressions",
    "neutral": "neutral expressions",
    "surprise": "surprised expressions",
    "negative": "negative expressions",
}
COLUMNS = ["time_s", "time", "group", "before", "after", "change_pp", "description", "headline"]


@dataclass(frozen=True)
class _Change:
    time_s: float
    group: str
    before: float
    after: float

    @property
    def change(self) -> float:
        return self.after - self.before

    def headline(self) -> str:
        """The change in a few words, for the summary paragraph: "positive expressions rose by 59 points"."""
        direction = "rose" if self.change > 0 else "fell"
        return f"{GROUP_PHRASES[self.group]} {direction} by {abs(self.change) * 100:.0f} points"

    def phrase(self, points: bool = True) -> str:
        direction = "rose" if self.change > 0 else "fell"
        text = f"{GROUP_PHRASES[self.group]} {direction} from {self.before:.0%} to {self.after:.0%}"
        return text + (f" ({self.change * 100:+.0f} percentage points)" if points else "")


def window_seconds(duration_s: float) -> float:
    """Compare a tenth of the lesson before and after, between 10 s and 2 minutes."""
    return float(np.clip(duration_s / 10, 10.0, 120.0))


def notable_moments(
    timeline: pd.DataFrame,
    bin_s: float = 1.0,
    window_s: float | None = None,
    min_change: float = MIN_CHANGE,
) -> pd.DataFrame:
    """The moments, in time order: ``time_s, time (m:ss), group, before, after, change_pp, description`` (a full
    sentence) and ``headline`` (a few words)."""
    if timeline.empty or faces_read(timeline).sum() == 0:
        return pd.DataFrame(columns=COLUMNS)
    grid = (timeline["time_s"].to_numpy() // bin_s).astype(np.int64)
    size = int(grid.max()) + 1
    readings = np.zeros(size)
    readings[grid] = faces_read(timeline).to_numpy(dtype=float)
    duration_s = size * bin_s
    window = max(1, round((window_s or window_seconds(duration_s)) / bin_s))
    changes: list[_Change] = []
    groups = group_shares(timeline)
    for group in GROUPS:
        share = groups[f"share_{group}"].fillna(0.0).to_numpy()
        hits = np.zeros(size)
        hits[grid] = share * readings[grid]
        changes += _group_changes(group, hits, readings, window, min_change, bin_s)
    return _as_moments(_merged(changes, window * bin_s))


def _group_changes(
    group: str, hits: np.ndarray, readings: np.ndarray, window: int, min_change: float, bin_s: float
) -> list[_Change]:
    """The peak of every run of bins where this group's after-minus-before change passes both tests."""
    hit_sum = np.concatenate([[0.0], np.cumsum(hits)])
    read_sum = np.concatenate([[0.0], np.cumsum(readings)])
    starts = np.arange(window, len(readings) - window + 1)  # a boundary with a full window on each side
    if len(starts) == 0:
        return []
    n_before = read_sum[starts] - read_sum[starts - window]
    n_after = read_sum[starts + window] - read_sum[starts]
    enough = (n_before >= window / 2) & (n_after >= window / 2)  # a face read in at least half of each window
    with np.errstate(invalid="ignore", divide="ignore"):
        before = (hit_sum[starts] - hit_sum[starts - window]) / n_before
        after = (hit_sum[starts + window] - hit_sum[starts]) / n_after
        pooled = (before * n_before + after * n_after) / (n_before + n_after)
        spread = np.sqrt(pooled * (1 - pooled) * (1 / n_before + 1 / n_after))
        z = np.abs(after - before) / np.maximum(spread, 1e-9)
    passes = enough & (np.abs(after - before) >= min_change) & (z >= MIN_Z)
    # the strongest boundary first; any other within a window of it is the same change seen off-centre
    found: list[_Change] = []
    taken: list[int] = []
    for index in sorted(np.flatnonzero(passes), key=lambda i: -abs(after[i] - before[i])):
        if all(abs(index - other) >= window for other in taken):
            taken.append(index)
            found.append(_Change(float(starts[index] * bin_s), group, float(before[index]), float(after[index])))
    return found


def _merged(changes: list[_Change], within_s: float) -> list[list[_Change]]:
    """Changes within ``within_s`` of each other, in any group, as one moment."""
    moments: list[list[_Change]] = []
    for change in sorted(changes, key=lambda c: c.time_s):
        if moments and change.time_s - moments[-1][0].time_s <= within_s:
            moments[-1].append(change)
        else:
            moments.append([change])
    return moments


def _as_moments(moments: list[list[_Change]]) -> pd.DataFrame:
    rows = []
    for changes in moments:
        main = max(changes, key=lambda c: (round(abs(c.change), 2), c.change > 0))  # a tie: say what rose
        opposite = [c for c in changes if np.sign(c.change) != np.sign(main.change)]
        text = main.phrase()
        if opposite:
            text += " as " + max(opposite, key=lambda c: abs(c.change)).phrase(points=False)
        text = text[0].upper() + text[1:]
        rows.append(
            (
                main.time_s,
                clock(main.time_s),
                main.group,
                main.before,
                main.after,
                round(main.change * 100),
                text,
                main.headline(),
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS)
