"""Flag tracks that never change: a face on a poster, a photo, a bag.

A seated student blinks, talks and turns: over a second their face changes.
A printed face does not, even when the camera pans across it (so box motion
is no use). Per track we keep the mean change of a small brightness-normalised
thumbnail against the one ``lag_s`` earlier, pixel by pixel. How much it changes
is not enough: a person reading from a screen changes as little as a poster in a
shaking hand (measured, thumbnail change in grey levels: the video_call speaker
10.2; the computer_lab poster 9.4, printed faces filmed hand-held 11.6-12.2, on a
stand 10.5; every other face of the shared clips 14.2-45.5; bench/static_faces.py). Where the change
gathers tells them apart: a live face changes most at its eyes (blinks, gaze),
a picture's change comes from the camera and spreads over its edges (the eye
band's change against the whole thumbnail's: the speaker 1.31, the pictures
0.85-0.98). A track is a picture when both say so. Only tracks seen for
``min_seconds`` are judged.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from fer.engine.detections import Detections

_THUMB = 16
_EYE_BAND = (slice(5, 9), slice(2, 14))  # rows and columns of the eyes in the thumbnail of a face crop


@dataclass(frozen=True)
class StaticConfig:
    min_seconds: float = 3.0  # shorter tracks are never flagged
    lag_s: float = 1.0  # compare each thumbnail with the one this long before
    max_change: float = 13.0  # mean absolute thumbnail change over lag_s, grey levels (0-255)
    max_eye_share: float = 1.15  # the eye band's change against the whole thumbnail's: above it, a live face
    # below this change a picture whatever the eye band says: no live face came near it (the stillest: 10.2), and
    # where so little changes, where it changes is noise (zoomed still textures: eye share 0.88-1.32 at 0.3)
    sure_change: float = 6.0


@dataclass
class TrackAppearance:
    first_time: float
    last_time: float
    recent: deque[tuple[float, np.ndarray]] = field(default_factory=deque)
    change_sum: np.ndarray = field(default_factory=lambda: np.zeros((_THUMB, _THUMB), np.float64))  # per pixel
    changes: int = 0

    @property
    def change(self) -> float:
        """Mean absolute change of the thumbnail over ``lag_s``, grey levels."""
        return float(self.change_sum.mean()) / self.changes if self.changes else float("inf")

    @property
    def eye_share(self) -> float:
        """How much more the eye band changed than the thumbnail as a whole (1: evenly)."""
        total = float(self.change_sum.mean())
        return float(self.change_sum[_EYE_BAND].mean()) / total if total > 0 else 1.0


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
                change = np.abs(thumbnail - track.recent[0][1])
                track.change_sum += change.mean(axis=2) if change.ndim == 3 else change  # colour: over channels
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
        if track.change <= self.config.sure_change:
            return True
        return track.change <= self.config.max_change and track.eye_share <= self.config.max_eye_share

    def static_ids(self) -> set[int]:
        return {track_id for track_id in self.tracks if self.is_static(track_id)}


def _thumbnail(crop: np.ndarray) -> np.ndarray:
    """16x16 float thumbnail minus its mean, so lighting flicker does not count as change."""
    small = cv2.resize(crop, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA).astype(np.float32)
    return small - small.mean()
