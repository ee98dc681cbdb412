"""Report data: the tables the Reports charts draw, computed from stored sessions (no Streamlit, no Altair).

Times stay in seconds here; the charts and texts format them (``fer.app.clock``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fer.engine.aggregate import GROUPS, SHARE_COLUMNS
from fer.labels import CLASSES

PROB_COLUMNS = [f"p_{c}" for c in CLASSES]
MAX_STRIP_COLUMNS = 600  # a 1-hour session is drawn in 6 s cells, not 3,600 tiny ones
MOST_BARS = 150  # bars across the main chart: readable at 1280 px for any session length
MIN_READINGS = 10  # face readings a bar should hold: fewer and each bar is mostly 0 or 100 %
NOT_READ = "not read"  # a face present whose expression could not be read (too small, turned away, blurred...)

# Stacking order, bottom to top: negative expressions at the bottom, positive on top, so a change reads the same in
# both views.
EXPRESSION_ORDER = ("angry", "disgust", "fear", "sad", "surprise", "neutral", "happy")
GROUP_ORDER = ("negative", "surprise", "neutral", "positive")
_BAR_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800)


def faces_read(timeline: pd.DataFrame) -> pd.Series:
    """Faces read per bin; sessions analysed before readability was assessed count every face present."""
    if "faces_readable" not in timeline:
        return timeline["faces"]
    return timeline["faces_readable"].fillna(timeline["faces"]).astype(int)


def bar_seconds(duration_s: float, bin_s: float = 1.0, readings_per_s: float = 0.0) -> float:
    """The width of one bar: a round number of seconds, at least the stored bin, at most ``MOST_BARS`` bars, and
    wide enough to hold about ``MIN_READINGS`` face readings at ``readings_per_s`` (faces read per second), so one
    face is drawn as shares over several seconds, not as a barcode of 0 and 100 %."""
    wanted = max(duration_s, bin_s) / MOST_BARS
    if readings_per_s > 0:
        wanted = max(wanted, MIN_READINGS / readings_per_s)
    step = next((s for s in _BAR_STEPS_S if s >= wanted), math.ceil(wanted / 3600) * 3600)
    return float(max(step, bin_s))


def readings_per_second(timeline: pd.DataFrame, bin_s: float = 1.0) -> float:
    """Faces read per second, on average over the bins where any face was present."""
    present = timeline["faces"] > 0 if len(timeline) else pd.Series(dtype=bool)
    return float(faces_read(timeline)[present].mean() / bin_s) if present.any() else 0.0


def resample(timeline: pd.DataFrame, bar_s: float) -> pd.DataFrame:
    """The timeline in bars of ``bar_s`` seconds: ``time_s, end_s, faces, faces_readable, share_<class>...``.

    A bar's shares are over every face reading in it (bins weighted by their faces read); its faces are the mean
    over the bins analysed in it. Only bars with an analysed bin are rows: a gap stays a gap.
    """
    columns = ["time_s", "end_s", "faces", "faces_readable", *SHARE_COLUMNS]
    if timeline.empty:
        return pd.DataFrame(columns=columns)
    read = faces_read(timeline).to_numpy(dtype=float)
    weighted = timeline[SHARE_COLUMNS].to_numpy(dtype=float, na_value=0.0) * read[:, None]
    frame = pd.DataFrame(weighted, columns=SHARE_COLUMNS)
    frame["bar"] = (timeline["time_s"].to_numpy() // bar_s).astype(np.int64)
    frame["faces"] = timeline["faces"].to_numpy(dtype=float)
    frame["faces_readable"] = read
    grouped = frame.groupby("bar")
    sums = grouped[[*SHARE_COLUMNS, "faces_readable"]].sum()
    result = pd.DataFrame({"time_s": sums.index.to_numpy() * bar_s, "end_s": (sums.index.to_numpy() + 1) * bar_s})
    result["faces"] = grouped["faces"].mean().to_numpy()
    result["faces_readable"] = grouped["faces_readable"].mean().to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        result[SHARE_COLUMNS] = sums[SHARE_COLUMNS].to_numpy(float) / sums["faces_readable"].to_numpy(float)[:, None]
    return result[columns].reset_index(drop=True)


def group_shares(frame: pd.DataFrame) -> pd.DataFrame:
    """``share_<group>`` columns (positive, neutral, surprise, negative) summed from the class shares."""
    result = frame.drop(columns=SHARE_COLUMNS)
    for group, members in GROUPS.items():
        result[f"share_{group}"] = frame[[f"share_{c}" for c in members]].sum(axis=1, min_count=1)
    return result


def stacked(bars: pd.DataFrame, grouped: bool = False) -> pd.DataFrame:
    """(time_s, end_s, expression, share, bottom, top, faces_readable) rows: each bar's shares stacked in the fixed
    order (negative at the bottom); bars where no face was read have no rows."""
    names = GROUP_ORDER if grouped else EXPRESSION_ORDER
    frame = group_shares(bars) if grouped else bars
    frame = frame[frame["faces_readable"] > 0]
    shares = frame[[f"share_{n}" for n in names]].to_numpy(dtype=float)
    top = np.cumsum(shares, axis=1)
    count = len(names)
    return pd.DataFrame(
        {
            "time_s": np.repeat(frame["time_s"].to_numpy(), count),
            "end_s": np.repeat(frame["end_s"].to_numpy(), count),
            "expression": np.tile(names, len(frame)),
            "share": shares.ravel(),
            "bottom": (top - shares).ravel(),
            "top": top.ravel(),
            "faces_readable": np.repeat(frame["faces_readable"].to_numpy(), count),
        }
    )


def coverage(bars: pd.DataFrame) -> pd.DataFrame:
    """(time_s, end_s, status, faces, bottom, top) rows: per bar, the faces read (from 0) and, stacked on them, the
    faces present but not read (means over the bar, so a face seen half the time counts 0.5)."""
    read = bars["faces_readable"].to_numpy(dtype=float)
    present = bars["faces"].to_numpy(dtype=float)
    start = bars["time_s"].to_numpy(dtype=float)
    end = bars["end_s"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "time_s": np.concatenate([start, start]),
            "end_s": np.concatenate([end, end]),
            "status": ["read"] * len(start) + [NOT_READ] * len(start),
            "faces": np.concatenate([read, present - read]).round(1),
            "bottom": np.concatenate([np.zeros(len(read)), read]),
            "top": np.concatenate([read, present]),
        }
    )


def track_cells(face_rows: pd.DataFrame, duration_s: float, static_ids: set[int] = frozenset()) -> pd.DataFrame:
    """(track_id, start_s, end_s, expression, confidence) cells for the track x time strip.

    Cells are 1 s wide, wider for long sessions so there are at most ``MAX_STRIP_COLUMNS``.
    Each cell's expression is the argmax of the track's mean probabilities over the frames it
    was read in the cell; a cell where it was present but never read is ``NOT_READ``.
    """
    columns = ["track_id", "start_s", "end_s", "expression", "confidence"]
    rows = face_rows[~face_rows["track_id"].isin(static_ids)]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    cell_s = max(1.0, float(np.ceil(max(duration_s, 1.0) / MAX_STRIP_COLUMNS)))
    cell = (rows["time_s"] // cell_s).astype(int)
    means = rows[PROB_COLUMNS].astype(np.float64).groupby([rows["track_id"], cell]).mean()  # all-NULL: object
    probs = means.to_numpy()
    read = ~np.isnan(probs).any(axis=1)
    best = np.nan_to_num(probs, nan=-1.0).argmax(axis=1)
    track_ids, cells = zip(*means.index, strict=True)
    return pd.DataFrame(
        {
            "track_id": track_ids,
            "start_s": np.array(cells) * cell_s,
            "end_s": (np.array(cells) + 1) * cell_s,
            "expression": np.where(read, np.array(CLASSES)[best], NOT_READ),
            "confidence": np.where(read, probs[np.arange(len(best)), best], np.nan).round(3),
        }
    )


def reading_summary(summary: dict) -> tuple[float | None, dict[str, float]]:
    """Share of face time read (None: not assessed, an older session) and, of the face time not read, the share
    each reason took, largest first."""
    share = summary.get("readable_share")
    reasons = summary.get("unreadable_reasons") or {}
    total = sum(reasons.values())
    if not total:
        return share, {}
    ordered = sorted(((reason, count / total) for reason, count in reasons.items() if count), key=lambda r: -r[1])
    return share, dict(ordered)


def overall_shares(summary: dict) -> pd.DataFrame:
    shares = summary.get("class_shares") or {}
    return pd.DataFrame({"expression": list(CLASSES), "share": [float(shares.get(c, 0.0)) for c in CLASSES]})


def overall_group_shares(summary: dict) -> dict[str, float]:
    """The session's face time read per group (positive, neutral, surprise, negative); empty if none was read."""
    shares = summary.get("class_shares") or {}
    if not shares:
        return {}
    return {group: float(sum(shares.get(c, 0.0) for c in members)) for group, members in GROUPS.items()}
