"""From per-face rows to what a teacher reads: a timeline, per-track summaries, session numbers.

State grows with (time bins x tracks), never with frames: about 30 MB for a
one-hour session with 30 faces. Tracks flagged as static (posters, photos) are left out
of every number at the end, when the flag is known.

The indicators are named for what they are - summaries of *observed facial
expressions* - and never claim to measure engagement or feelings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from fer.engine.detections import Detections
from fer.labels import CLASSES, NUM_CLASSES

NEGATIVE_CLASSES = ("angry", "disgust", "fear", "sad")
SHARE_COLUMNS = [f"share_{c}" for c in CLASSES]
MEAN_COLUMNS = [f"mean_p_{c}" for c in CLASSES]
INDICATOR_DEFINITIONS = {
    "expressiveness": "1 - mean P(neutral): how often faces show any non-neutral expression",
    "positive_negative_balance": "mean P(happy) - mean P(angry + disgust + fear + sad), from -1 to 1",
}


@dataclass
class _TrackTotals:
    first_s: float
    last_s: float
    frames: int = 0
    label_counts: np.ndarray | None = None
    prob_sum: np.ndarray | None = None

    def add(self, time_s: float, label: int, probs: np.ndarray) -> None:
        if self.label_counts is None:
            self.label_counts = np.zeros(NUM_CLASSES, np.int64)
            self.prob_sum = np.zeros(NUM_CLASSES, np.float64)
        self.last_s = time_s
        self.frames += 1
        self.label_counts[label] += 1
        self.prob_sum += probs


class SessionAggregator:
    """Call ``add`` for every analysed frame (tracked, classified, smoothed detections)."""

    def __init__(self, bin_s: float = 1.0, sample_interval_s: float = 1 / 30) -> None:
        if bin_s <= 0:
            raise ValueError("bin_s must be positive")
        self.bin_s = bin_s
        self.sample_interval_s = sample_interval_s
        self.reset()

    def reset(self) -> None:
        self._bin_track_probs: dict[tuple[int, int], np.ndarray] = defaultdict(lambda: np.zeros(NUM_CLASSES))
        self._bin_track_frames: dict[tuple[int, int], int] = defaultdict(int)
        self._tracks: dict[int, _TrackTotals] = {}
        self.last_bin = -1

    def add(self, detections: Detections, time_s: float) -> None:
        time_bin = int(time_s // self.bin_s)
        self.last_bin = max(self.last_bin, time_bin)
        labels = detections.class_index
        for track_id, label, probs in zip(detections.track_id, labels, detections.probs, strict=True):
            key = (time_bin, int(track_id))
            self._bin_track_probs[key] += probs
            self._bin_track_frames[key] += 1
            totals = self._tracks.setdefault(int(track_id), _TrackTotals(time_s, time_s))
            totals.add(time_s, int(label), probs)

    def timeline(self, exclude: set[int] = frozenset(), since_s: float = 0.0) -> pd.DataFrame:
        """One row per bin from ``since_s`` on: ``time_s, faces, share_<class>..., mean_p_<class>...``.

        Each face counts once per bin, with its mean probabilities over the bin;
        its class there is their argmax. Bins without faces have NaN shares.
        Vectorised: the live panel asks every second, also an hour into a 30-face
        session, and the frame worker waits while it does.
        """
        first_bin = max(int(since_s // self.bin_s), 0)
        n_bins = max(self.last_bin + 1 - first_bin, 0)
        keys = [key for key in self._bin_track_frames if key[0] >= first_bin and key[1] not in exclude]
        bins = np.fromiter((key[0] - first_bin for key in keys), np.int64, len(keys))
        frames = np.fromiter((self._bin_track_frames[key] for key in keys), np.float64, len(keys))
        means = np.array([self._bin_track_probs[key] for key in keys]).reshape(-1, NUM_CLASSES) / frames[:, None]
        faces = np.bincount(bins, minlength=n_bins)
        label_counts = np.zeros((n_bins, NUM_CLASSES))
        np.add.at(label_counts, (bins, means.argmax(axis=1)), 1)
        prob_sums = np.zeros((n_bins, NUM_CLASSES))
        np.add.at(prob_sums, bins, means)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = label_counts / faces[:, None]
            mean_probs = prob_sums / faces[:, None]
        frame = pd.DataFrame({"time_s": (first_bin + np.arange(n_bins)) * self.bin_s, "faces": faces})
        frame[SHARE_COLUMNS] = shares
        frame[MEAN_COLUMNS] = mean_probs
        return frame

    def tracks(self, static: set[int] = frozenset()) -> pd.DataFrame:
        """One row per track: when it was seen, for how long, its class shares, whether it is static."""
        rows = []
        for track_id, totals in sorted(self._tracks.items()):
            shares = totals.label_counts / totals.frames
            rows.append(
                {
                    "track_id": track_id,
                    "first_s": totals.first_s,
                    "last_s": totals.last_s,
                    "present_s": totals.frames * self.sample_interval_s,
                    "frames": totals.frames,
                    "dominant": CLASSES[int(np.argmax(totals.prob_sum))],
                    "static": track_id in static,
                    **dict(zip(SHARE_COLUMNS, shares.tolist(), strict=True)),
                }
            )
        columns = ["track_id", "first_s", "last_s", "present_s", "frames", "dominant", "static", *SHARE_COLUMNS]
        return pd.DataFrame(rows, columns=columns)

    def finish(self, static: set[int]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
        """The session's timeline, track table and summary numbers, with ``static`` tracks left out of the numbers."""
        tracks = self.tracks(static=static)
        numbers = {"tracks": int((~tracks["static"]).sum()), "static_tracks": sorted(static), **self.overall(static)}
        return self.timeline(exclude=static), tracks, numbers

    def overall(self, exclude: set[int] = frozenset()) -> dict:
        """Session-level class shares (over analysed face-frames), dominant class and expression indicators."""
        counts = np.zeros(NUM_CLASSES)
        prob_sum = np.zeros(NUM_CLASSES)
        frames = 0
        for track_id, totals in self._tracks.items():
            if track_id not in exclude:
                counts += totals.label_counts
                prob_sum += totals.prob_sum
                frames += totals.frames
        if frames == 0:
            return {
                "face_frames": 0,
                "class_shares": None,
                "mean_probabilities": None,
                "dominant": None,
                "indicators": None,
            }
        shares = counts / frames
        mean = prob_sum / frames
        negative = sum(mean[CLASSES.index(c)] for c in NEGATIVE_CLASSES)
        return {
            "face_frames": frames,
            "class_shares": dict(zip(CLASSES, shares.round(4).tolist(), strict=True)),
            "mean_probabilities": dict(zip(CLASSES, mean.round(4).tolist(), strict=True)),
            "dominant": CLASSES[int(shares.argmax())],
            "indicators": {
                "expressiveness": round(1 - float(mean[CLASSES.index("neutral")]), 4),
                "positive_negative_balance": round(float(mean[CLASSES.index("happy")] - negative), 4),
            },
            "indicator_definitions": INDICATOR_DEFINITIONS,
        }


def long_shares(timeline: pd.DataFrame) -> pd.DataFrame:
    """(time_s, expression, share) rows for a stacked area chart."""
    frame = timeline[["time_s", *SHARE_COLUMNS]].rename(columns=dict(zip(SHARE_COLUMNS, CLASSES, strict=True)))
    return frame.melt("time_s", var_name="expression", value_name="share")
