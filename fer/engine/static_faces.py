"""Flag tracks that never change: a face on a poster, a photo, a bag.

A seated student blinks, talks and turns: over a second their face changes.
A printed face does not, even when the camera pans across it (so box motion
is no use). Per track we keep the mean change of a small brightness-normalised
thumbnail against the one ``lag_s`` earlier. The threshold was set on the
shared clips: the poster in computer_lab.mp4 scores 8.9 while panning, real
and tiny faces 13-42. Only tracks seen for ``min_seconds`` are judged.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from fer.engine.detections import Detections

_THUMB = 16


@dataclass(frozen=True)
class StaticConfig:
    min_seconds: float = 3.0  # shorter tracks are never flagged
    lag_s: float = 1.0  # compare each thumbnail with the one this long before
    max_change: float = 11.0  # mean absolute thumbnail change over lag_s, grey levels (0-255)


@dataclass
class TrackAppearance:
    first_time: float
    last_time: float
    recent: deque[tuple[float, np.ndarray]] = field(default_factory=deque)
    change_sum: float = 0.0
    changes: int = 0

    @property
    def change(self) -> float:
        return self.change_sum / self.changes if self.changes else float("inf")


class StaticFaceDetector:
    """Feed it every analysed frame's tracked faces and their crops; ask ``is_static(track_id)`` at any time."""

    def __init__(self, config: StaticConfig | None = None) -> None:
        self.config = config or StaticConfig()
        self.reset()

    def reset(self) -> None:
        self.tracks: dict[int, TrackAppearance] = {}

    def update(self, detections: Detections, crops: list[np.ndarray], time_s: float) -> None:
        for track_id, crop in zip(detections.track_id, crops, strict=True):
            track = self.tracks.setdefault(int(track_id), TrackAppearance(time_s, time_s))
            thumbnail = _thumbnail(crop)
            cutoff = time_s - self.config.lag_s
            while len(track.recent) > 1 and track.recent[1][0] <= cutoff:
                track.recent.popleft()
            if track.recent and track.recent[0][0] <= cutoff:
                track.change_sum += float(np.abs(thumbnail - track.recent[0][1]).mean())
                track.changes += 1
            track.recent.append((time_s, thumbnail))
            track.last_time = time_s
        for track in self.tracks.values():  # ended tracks keep their numbers, not their thumbnails
            if track.recent and track.last_time < time_s - self.config.lag_s:
                track.recent.clear()

    def is_static(self, track_id: int) -> bool:
        track = self.tracks.get(track_id)
        if track is None or track.last_time - track.first_time < self.config.min_seconds:
            return False
        return track.change <= self.config.max_change

    def static_ids(self) -> set[int]:
        return {track_id for track_id in self.tracks if self.is_static(track_id)}


def _thumbnail(crop: np.ndarray) -> np.ndarray:
    """16x16 float thumbnail minus its mean, so lighting flicker does not count as change."""
    small = cv2.resize(crop, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    return small - small.mean()
