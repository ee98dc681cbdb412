"""Report data: the tables the Reports charts draw, computed from stored sessions (no Streamlit, no Altair)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer.engine.aggregate import SHARE_COLUMNS
from fer.labels import CLASSES

PROB_COLUMNS = [f"p_{c}" for c in CLASSES]
MAX_STRIP_COLUMNS = 600  # a 1-hour session is drawn in 6 s cells, not 3,600 tiny ones
NOT_READ = "not read"  # a face present whose expression could not be read (too small, turned away, blurred...)


def faces_read(timeline: pd.DataFrame) -> pd.Series:
    """Faces read per bin; sessions analysed before readability was assessed count every face present."""
    if "faces_readable" not in timeline:
        return timeline["faces"]
    return timeline["faces_readable"].fillna(timeline["faces"]).astype(int)


def coverage(timeline: pd.DataFrame) -> pd.DataFrame:
    """(time_s, end_s, status, faces, bottom, top) rows: per bin, the faces read (from 0) and, stacked on them,
    the faces present but not read."""
    read = faces_read(timeline).to_numpy()
    present = timeline["faces"].to_numpy()
    start = timeline["time_s"].to_numpy(dtype=float)
    bin_s = float(np.median(np.diff(start))) if len(start) > 1 else 1.0
    return pd.DataFrame(
        {
            "time_s": np.concatenate([start, start]),
            "end_s": np.concatenate([start, start]) + bin_s,
            "status": ["read"] * len(start) + [NOT_READ] * len(start),
            "faces": np.concatenate([read, present - read]),
            "bottom": np.concatenate([np.zeros(len(read)), read]),
            "top": np.concatenate([read, present]),
        }
    )


def smoothed(timeline: pd.DataFrame, window_bins: int) -> pd.DataFrame:
    """Shares as a centred moving average over ``window_bins`` bins (1 = unchanged); empty bins stay empty."""
    if window_bins <= 1:
        return timeline
    result = timeline.copy()
    result[SHARE_COLUMNS] = timeline[SHARE_COLUMNS].rolling(window_bins, center=True, min_periods=1).mean()
    result.loc[faces_read(timeline) == 0, SHARE_COLUMNS] = np.nan
    return result


def dominant_per_bin(timeline: pd.DataFrame) -> pd.DataFrame:
    """(time_s, expression, share) of the most common expression in each bin where faces were read."""
    with_faces = timeline[faces_read(timeline) > 0]
    shares = with_faces[SHARE_COLUMNS].to_numpy()
    best = shares.argmax(axis=1) if len(shares) else np.empty(0, int)
    return pd.DataFrame(
        {
            "time_s": with_faces["time_s"].to_numpy(),
            "expression": [CLASSES[i] for i in best],
            "share": shares[np.arange(len(best)), best] if len(best) else [],
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
    each reason took."""
    share = summary.get("readable_share")
    reasons = summary.get("unreadable_reasons") or {}
    total = sum(reasons.values())
    return share, {reason: count / total for reason, count in reasons.items() if count} if total else {}


def overall_shares(summary: dict) -> pd.DataFrame:
    shares = summary.get("class_shares") or {}
    return pd.DataFrame({"expression": list(CLASSES), "share": [float(shares.get(c, 0.0)) for c in CLASSES]})


def notable_moments(timeline: pd.DataFrame, window_s: float = 10.0, min_change: float = 0.25) -> pd.DataFrame:
    """Where the share of happy faces rises or falls by at least ``min_change`` between two windows.

    Compares the mean happy share in the ``window_s`` before each bin with the
    ``window_s`` after it and keeps the strongest change per episode.
    """
    columns = ["time_s", "change", "description"]
    if timeline.empty:
        return pd.DataFrame(columns=columns)
    bin_s = float(timeline["time_s"].diff().median()) if len(timeline) > 1 else 1.0
    window = max(1, round(window_s / bin_s))
    happy = timeline["share_happy"]
    before = happy.rolling(window, min_periods=max(1, window // 2)).mean()
    after = happy[::-1].rolling(window, min_periods=max(1, window // 2)).mean()[::-1].shift(-1)
    change = (after - before).to_numpy()
    moments = []
    index = 0
    while index < len(change):
        if np.isnan(change[index]) or abs(change[index]) < min_change:
            index += 1
            continue
        end = index
        while (
            end + 1 < len(change)
            and np.sign(change[end + 1]) == np.sign(change[index])
            and abs(change[end + 1]) >= min_change
        ):
            end += 1
        peak = index + int(np.nanargmax(np.abs(change[index : end + 1])))
        direction = "rose" if change[peak] > 0 else "fell"
        time_s = float(timeline["time_s"].iloc[peak]) + bin_s
        moments.append(
            (time_s, round(float(change[peak]), 3), f"share of happy faces {direction} by {abs(change[peak]):.0%}")
        )
        index = end + 1
    return pd.DataFrame(moments, columns=columns)
