"""From per-face rows to what a teacher reads: a timeline, per-track summaries, session numbers.

State grows with (time bins x tracks), never with frames: about 30 MB for a
one-hour session with 30 faces. Tracks flagged as static (posters, photos) are left out
of every number at the end, when the flag is known. A face counts as present whether
or not it could be read; every expression number counts only the faces that were read.

The indicators are named for what they are - summaries of *observed facial
expressions* - and never claim to measure engagement or feelings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fer.engine.detections import UNREADABLE_REASONS, Detections
from fer.engine.quality import QualityMonitor
from fer.labels import CLASSES, NUM_CLASSES

NEGATIVE_CLASSES = ("angry", "disgust", "fear", "sad")
# The grouped view, as in classroom wellbeing studies: one positive, neutral, surprise (either way), negative.
GROUPS: dict[str, tuple[str, ...]] = {
    "positive": ("happy",),
    "neutral": ("neutral",),
    "surprise": ("surprise",),
    "negative": NEGATIVE_CLASSES,
}
SHARE_COLUMNS = [f"share_{c}" for c in CLASSES]
MEAN_COLUMNS = [f"mean_p_{c}" for c in CLASSES]
# Both from the class shares the charts show (each face reading counted as its most likely expression), so a
# number never disagrees with the picture: a mostly neutral session has a low non-neutral share.
INDICATOR_DEFINITIONS = {
    "non_neutral_share": "share of the face time read whose most likely expression was not neutral",
    "positive_negative_balance": "share read as happy minus share read as angry, disgust, fear or sad (-1 to 1)",
}


@dataclass
class _TrackTotals:
    first_s: float
    last_s: float
    frames: int = 0  # present
    readable_frames: int = 0
    label_counts: np.ndarray = field(default_factory=lambda: np.zeros(NUM_CLASSES, np.int64))
    prob_sum: np.ndarray = field(default_factory=lambda: np.zeros(NUM_CLASSES, np.float64))
    unreadable_counts: np.ndarray = field(default_factory=lambda: np.zeros(len(UNREADABLE_REASONS), np.int64))

    def add(self, time_s: float, label: int, probs: np.ndarray, unreadable: int) -> None:
        self.last_s = time_s
        self.frames += 1
        if unreadable:
            self.unreadable_counts[unreadable - 1] += 1
            return
        self.readable_frames += 1
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
        self._bin_track_frames: dict[tuple[int, int], int] = defaultdict(int)  # frames the face was read
        self._bin_track_present: set[tuple[int, int]] = set()
        self._tracks: dict[int, _TrackTotals] = {}
        self.quality = QualityMonitor()
        self._frame_bins: set[int] = set()  # bins in which a frame was analysed: the timeline's rows
        self.last_bin = -1

    def add(self, detections: Detections, time_s: float, quality: np.ndarray | None = None) -> None:
        """One analysed frame's faces; ``quality`` are their readability signals, for the session's quality block."""
        time_bin = int(time_s // self.bin_s)
        self.last_bin = max(self.last_bin, time_bin)
        self._frame_bins.add(time_bin)
        labels = detections.class_index
        rows = zip(detections.track_id, labels, detections.probs, detections.unreadable, strict=True)
        for track_id, label, probs, unreadable in rows:
            key = (time_bin, int(track_id))
            self._bin_track_present.add(key)
            if not unreadable:
                self._bin_track_probs[key] += probs
                self._bin_track_frames[key] += 1
            totals = self._tracks.setdefault(int(track_id), _TrackTotals(time_s, time_s))
            totals.add(time_s, int(label), probs, int(unreadable))
        if quality is not None:
            self.quality.add(quality, detections.track_id)

    def timeline(self, exclude: set[int] = frozenset(), since_s: float = 0.0) -> pd.DataFrame:
        """One row per bin from ``since_s`` on in which a frame was analysed (a gap in the recording is a gap, not
        empty rows: a file that jumps to 10^6 s stays a few rows): ``time_s, faces, faces_readable, share_<class>...,
        mean_p_<class>...``.

        Each face present counts once per bin in ``faces``; the faces read at least once in
        the bin count in ``faces_readable`` with their mean probabilities over the frames
        they were read; a face's class there is their argmax. Shares are over the faces
        read; bins where none was read have NaN shares.
        Vectorised: the live panel asks every second, also an hour into a 30-face
        session, and the frame worker waits while it does.
        """
        first_bin = max(int(since_s // self.bin_s), 0)
        seen = np.array(sorted(b for b in self._frame_bins if b >= first_bin), np.int64)
        n_bins = len(seen)
        present = [key[0] for key in self._bin_track_present if key[0] >= first_bin and key[1] not in exclude]
        keys = [key for key in self._bin_track_frames if key[0] >= first_bin and key[1] not in exclude]
        bins = np.searchsorted(seen, np.fromiter((key[0] for key in keys), np.int64, len(keys)))
        frames = np.fromiter((self._bin_track_frames[key] for key in keys), np.float64, len(keys))
        means = np.array([self._bin_track_probs[key] for key in keys]).reshape(-1, NUM_CLASSES) / frames[:, None]
        faces = np.bincount(np.searchsorted(seen, np.asarray(present, np.int64)), minlength=n_bins)
        readable = np.bincount(bins, minlength=n_bins)
        label_counts = np.zeros((n_bins, NUM_CLASSES))
        np.add.at(label_counts, (bins, means.argmax(axis=1)), 1)
        prob_sums = np.zeros((n_bins, NUM_CLASSES))
        np.add.at(prob_sums, bins, means)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = label_counts / readable[:, None]
            mean_probs = prob_sums / readable[:, None]
        frame = pd.DataFrame({"time_s": seen * self.bin_s, "faces": faces, "faces_readable": readable})
        frame[SHARE_COLUMNS] = shares
        frame[MEAN_COLUMNS] = mean_probs
        return frame

    def tracks(self, static: set[int] = frozenset()) -> pd.DataFrame:
        """One row per track: when it was seen, for how long, how often it was read, its class shares over the
        frames it was read ('' and NaN where never read), whether it is static."""
        rows = []
        for track_id, totals in sorted(self._tracks.items()):
            read = totals.readable_frames
            shares = totals.label_counts / read if read else np.full(NUM_CLASSES, np.nan)
            rows.append(
                {
                    "track_id": track_id,
                    "first_s": totals.first_s,
                    "last_s": totals.last_s,
                    "present_s": totals.frames * self.sample_interval_s,
                    "frames": totals.frames,
                    "readable_frames": read,
                    "dominant": CLASSES[int(np.argmax(totals.prob_sum))] if read else "",
                    "static": track_id in static,
                    **dict(zip(SHARE_COLUMNS, shares.tolist(), strict=True)),
                }
            )
        columns = [
            "track_id",
            "first_s",
            "last_s",
            "present_s",
            "frames",
            "readable_frames",
            "dominant",
            "static",
            *SHARE_COLUMNS,
        ]
        return pd.DataFrame(rows, columns=columns)

    def finish(self, static: set[int]) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
        """The session's timeline, track table and summary numbers, with ``static`` tracks left out of the numbers."""
        tracks = self.tracks(static=static)
        overall = self.overall(static)
        numbers = {
            "tracks": int((~tracks["static"]).sum()),
            "static_tracks": sorted(static),
            **overall,
            **self.quality.report(static, overall["class_shares"]),
        }
        return self.timeline(exclude=static), tracks, numbers

    def overall(self, exclude: set[int] = frozenset()) -> dict:
        """Session-level class shares (over the face-frames read), dominant class, expression indicators, and how
        much could be read: ``readable_share`` of face-frames and why the rest were not."""
        counts = np.zeros(NUM_CLASSES)
        prob_sum = np.zeros(NUM_CLASSES)
        unreadable = np.zeros(len(UNREADABLE_REASONS), np.int64)
        frames = readable = 0
        for track_id, totals in self._tracks.items():
            if track_id not in exclude:
                counts += totals.label_counts
                prob_sum += totals.prob_sum
                frames += totals.frames
                readable += totals.readable_frames
                unreadable += totals.unreadable_counts
        reading = {
            "face_frames": frames,
            "readable_face_frames": readable,
            "readable_share": round(readable / frames, 4) if frames else None,
            "unreadable_reasons": dict(zip(UNREADABLE_REASONS, unreadable.tolist(), strict=True)),
        }
        if readable == 0:
            return {
                **reading,
                "class_shares": None,
                "mean_probabilities": None,
                "dominant": None,
                "indicators": None,
            }
        shares = counts / readable
        mean = prob_sum / readable
        negative = sum(shares[CLASSES.index(c)] for c in NEGATIVE_CLASSES)
        return {
            **reading,
            "class_shares": dict(zip(CLASSES, shares.round(4).tolist(), strict=True)),
            "mean_probabilities": dict(zip(CLASSES, mean.round(4).tolist(), strict=True)),
            "dominant": CLASSES[int(shares.argmax())],
            "indicators": {
                "non_neutral_share": round(1 - float(shares[CLASSES.index("neutral")]), 4),
                "positive_negative_balance": round(float(shares[CLASSES.index("happy")] - negative), 4),
            },
            "indicator_definitions": INDICATOR_DEFINITIONS,
        }


def long_shares(timeline: pd.DataFrame) -> pd.DataFrame:
    """(time_s, expression, share) rows for a stacked area chart."""
    frame = timeline[["time_s", *SHARE_COLUMNS]].rename(columns=dict(zip(SHARE_COLUMNS, CLASSES, strict=True)))
    return frame.melt("time_s", var_name="expression", value_name="share")
