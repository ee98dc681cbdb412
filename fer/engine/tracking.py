"""Anonymous face tracking: stable ids across frames, no identities, no stored pictures.

A small ByteTrack-style tracker (IoU association on boxes grown around their
centres, Hungarian matching, a constant-velocity box prediction, a second
matching pass for low-score boxes).
It is written here rather than taken from `supervision` because that package
pulls in `opencv-python`, which clashes with `opencv-python-headless`, and
faces in a classroom need nothing more than this. Time is in seconds so
variable frame rates and frame strides behave the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

import numpy as np
from scipy.optimize import linear_sum_assignment

from fer.engine.detections import Detections, box_iou


@dataclass(frozen=True)
class TrackerConfig:
    high_score: float = 0.5  # only detections at least this confident start or first-match tracks
    match_iou: float = 0.2  # minimum overlap between a predicted track box and a detection...
    match_scale: float = 2.0  # ...both grown this much around their centres (tiny faces under a moving camera)
    max_missing_s: float = 1.0  # a track unseen for longer, and for at least two detection rounds, is ended
    min_hits: int = 2  # matches needed before a track gets an id (filters one-frame flickers)


@dataclass
class _Track:
    box: np.ndarray
    score: float
    time_s: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    hits: int = 1
    missed: int = 0  # detection rounds in a row without a match
    track_id: int = -1  # assigned when confirmed

    def predicted_box(self, time_s: float) -> np.ndarray:
        return self.box + self.velocity * max(time_s - self.time_s, 0.0)

    def observe(self, box: np.ndarray, score: float, time_s: float) -> None:
        dt = time_s - self.time_s
        if dt > 0:
            self.velocity = 0.5 * self.velocity + 0.5 * (box - self.box) / dt
        self.box, self.score, self.time_s = box, score, time_s
        self.hits += 1
        self.missed = 0


class FaceTracker:
    """``update(detections, time_s)`` returns the confirmed tracks seen in this frame, with ids."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self.reset()

    def reset(self) -> None:
        self._tracks: list[_Track] = []
        self._ids = count(1)

    def update(self, detections: Detections, time_s: float) -> Detections:
        return self.update_rows(detections, time_s)[0]

    def update_rows(self, detections: Detections, time_s: float) -> tuple[Detections, np.ndarray]:
        """``update``, and for each returned face its row in ``detections`` (to carry numbers measured per
        detection, such as a browser's crop signals, onto the tracked faces)."""
        # With sparse detection (a frame stride, detect_every) a round can be longer than max_missing_s,
        # so a track also survives its first missed round.
        self._tracks = [t for t in self._tracks if t.missed < 2 or time_s - t.time_s <= self.config.max_missing_s]
        high = detections.score >= self.config.high_score
        unmatched_tracks = list(range(len(self._tracks)))
        matched: list[tuple[int, int]] = []
        for pass_mask in (high, ~high):
            candidates = np.flatnonzero(pass_mask)
            pairs = self._match(unmatched_tracks, detections.xyxy[candidates], time_s)
            matched += [(t, int(candidates[d])) for t, d in pairs]
            taken = {t for t, _ in pairs}
            unmatched_tracks = [t for t in unmatched_tracks if t not in taken]

        for t in unmatched_tracks:
            self._tracks[t].missed += 1
        for t, d in matched:
            self._tracks[t].observe(detections.xyxy[d].copy(), float(detections.score[d]), time_s)
        used = {d for _, d in matched}
        for d in np.flatnonzero(high):
            if int(d) not in used:
                self._tracks.append(_Track(detections.xyxy[d].copy(), float(detections.score[d]), time_s))
                matched.append((len(self._tracks) - 1, int(d)))
        for track in self._tracks:
            if track.track_id < 0 and track.hits >= self.config.min_hits:
                track.track_id = next(self._ids)

        rows = [(d, self._tracks[t].track_id) for t, d in matched if self._tracks[t].track_id >= 0]
        rows.sort(key=lambda row: row[1])
        order = np.asarray([d for d, _ in rows], np.int64)
        result = detections[order]
        result.track_id = np.asarray([track_id for _, track_id in rows], np.int64)
        return result, order

    def shift(self, offset: np.ndarray) -> None:
        """Move every track by the camera's (dx, dy) since the last frame (fer.engine.camera_motion), so matching
        and prediction follow the faces' own motion only."""
        if offset.any():
            for track in self._tracks:
                track.box = track.box + np.tile(offset, 2).astype(np.float32)

    def predicted_boxes(self, time_s: float) -> np.ndarray:
        """Where every live track (confirmed or not, matched last round or not) should be at ``time_s``: where a
        detector that looks only around known faces looks."""
        return np.array([t.predicted_box(time_s) for t in self._tracks], np.float32).reshape(-1, 4)

    def predict(self, time_s: float) -> Detections:
        """Confirmed tracks matched at the last update, moved to ``time_s``: for frames the detector skips."""
        current = [t for t in self._tracks if t.track_id >= 0 and t.missed == 0]
        current.sort(key=lambda t: t.track_id)
        return Detections(
            xyxy=np.array([t.predicted_box(time_s) for t in current], np.float32).reshape(-1, 4),
            score=[t.score for t in current],
            track_id=[t.track_id for t in current],
        )

    def _match(self, track_indices: list[int], boxes: np.ndarray, time_s: float) -> list[tuple[int, int]]:
        """Hungarian matching on IoU between predicted track boxes and ``boxes``: (track index, box row)."""
        if not track_indices or len(boxes) == 0:
            return []
        predicted = np.array([self._tracks[t].predicted_box(time_s) for t in track_indices])
        iou = box_iou(_grown(predicted, self.config.match_scale), _grown(boxes, self.config.match_scale))
        rows, cols = linear_sum_assignment(-iou)
        good = iou[rows, cols] >= self.config.match_iou
        return [(track_indices[r], int(c)) for r, c in zip(rows[good], cols[good], strict=True)]


def _grown(xyxy: np.ndarray, scale: float) -> np.ndarray:
    """Boxes scaled around their centres: a 20 px face that moved 15 px still overlaps its track."""
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
    half = (xyxy[:, 2:] - xyxy[:, :2]) * scale / 2
    return np.hstack([centre - half, centre + half])
