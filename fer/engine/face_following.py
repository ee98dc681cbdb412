"""Detection whose cost follows the faces, not the pixels.

CenterFace on a whole 1080p frame costs about 180 ms on two cores, and a lesson needs a detection round a few
times a second to keep every face's box on the face. Between two rounds the faces are where the tracker says,
give or take a fraction of a second's motion. So a frame is looked at whole only every ``full_every_s`` seconds
(that finds new faces; the tracker carries them in between; after a cut to another picture the next round is
one too), and the rounds between look only at a window around each tracked face, ``window_sides`` face sides
across, windows of a size batched into one network run.

Windows are cut on the network's 32 px grid, so the network sees each face as in a whole-frame look: measured
on the shared clips (277 faces, windows 3 sides across, halving and joining included), boxes then differ from the
whole-frame ones by a median 0.3 % of the face's side (5 % at the 90th percentile), where unaligned windows moved
them by 3-5 % in the median, enough to turn a still poster into a "moving face". A face of at least twice ``face_px``
is looked at halved (or quartered...), on the grid of that scale, as a whole-frame look at that scale would see
it: a close-up costs a small window, not a whole frame, and its box keeps the precision that left readings
unchanged in the measurements (faces kept at 96 px or more; at 24-64 px a close-up's readings moved by up to 30
points).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import cv2
import numpy as np

from fer.engine.detection import CenterFaceDetector, nms
from fer.engine.detections import Detections

GRID_PX = 32  # the network's largest stride: a window starting on this grid is seen as in the whole frame


@dataclass(frozen=True)
class FollowingConfig:
    full_every_s: float = 2.0  # a whole-frame look this often (new faces); windows around known faces in between
    window_sides: float = 3.0  # a window is this many face sides across: room to move, and the face's context
    face_px: float = 96.0  # a face at least twice this is looked at halved (repeatedly), never below it
    nms_iou: float = 0.3  # windows overlap: a face found in two is kept once


class FaceFollowingDetector:
    """``detect(frame, time_s, around)`` in time order, ``around`` the tracked faces' predicted boxes (xyxy).
    ``full`` tells whether the last round looked at the whole frame. ``reset()`` between sessions."""

    def __init__(self, detector: CenterFaceDetector, config: FollowingConfig | None = None) -> None:
        self.detector = detector
        self.config = config or FollowingConfig()
        self.reset()

    def reset(self) -> None:
        self._last_full_s: float | None = None
        self.full = True

    def look_whole(self) -> None:
        """Make the next round a whole-frame look (the picture changed: a cut, a jump)."""
        self._last_full_s = None

    def detect(self, frame: np.ndarray, time_s: float, around: np.ndarray) -> Detections:
        self.full = self._last_full_s is None or time_s - self._last_full_s >= self.config.full_every_s
        if self.full:
            self._last_full_s = time_s
            return self.detector.detect(frame, scale=1.0)
        return self.in_windows(frame, around)

    def in_windows(self, frame: np.ndarray, around: np.ndarray) -> Detections:
        """Faces found in a window around each of the ``around`` boxes, in frame pixels, each face once."""
        windows = [face_window(frame.shape, box, self.config) for box in around]
        windows = joined_windows([w for w in windows if w.right > w.left and w.bottom > w.top])  # none off the frame
        by_size: dict[tuple[int, int], list[Window]] = {}
        for window in windows:
            by_size.setdefault(window.padded_size, []).append(window)
        found: list[Detections] = []
        for (height, width), group in by_size.items():
            images = [_padded(window.pixels(frame), height, width) for window in group]
            for window, result in zip(group, self.detector.detect_batch(images), strict=True):
                found.append(window.to_frame(result))
        merged = Detections.concat(found) if found else Detections()
        return merged[np.sort(nms(merged.xyxy, merged.score, self.detector.threshold, self.config.nms_iou))]


@dataclass(frozen=True)
class Window:
    """A part of the frame looked at ``scale`` (1, 1/2, 1/4...), its top-left corner on the grid of that scale
    (right and bottom cut at the frame's edge)."""

    left: int
    top: int
    right: int
    bottom: int
    frame_width: int
    frame_height: int
    scale: float = 1.0

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) as the network sees it, before padding."""
        height = max(round((self.bottom - self.top) * self.scale), 1)
        return height, max(round((self.right - self.left) * self.scale), 1)

    @property
    def area(self) -> int:
        return (self.right - self.left) * (self.bottom - self.top)

    @property
    def padded_size(self) -> tuple[int, int]:
        """(height, width) rounded up to the grid, as the network is given it."""
        height, width = self.size
        return _grid_up(height), _grid_up(width)

    def pixels(self, frame: np.ndarray) -> np.ndarray:
        """The window's pixels at its scale (shrunk as a whole-frame look at that scale shrinks them)."""
        part = frame[self.top : self.bottom, self.left : self.right]
        if self.scale == 1.0:
            return part
        height, width = self.size
        return cv2.resize(part, (width, height), interpolation=cv2.INTER_AREA)

    def to_frame(self, found: Detections) -> Detections:
        """Faces found in the window, moved to frame pixels; a box cut by a window edge inside the frame (part of a
        neighbouring face, which its own window finds whole) is left out."""
        height, width = self.size
        xyxy = found.xyxy
        cut = np.zeros(len(found), bool)
        if self.left > 0:
            cut |= xyxy[:, 0] <= 1
        if self.top > 0:
            cut |= xyxy[:, 1] <= 1
        if self.right < self.frame_width:
            cut |= xyxy[:, 2] >= width - 1
        if self.bottom < self.frame_height:
            cut |= xyxy[:, 3] >= height - 1
        found = found[~cut]
        found.xyxy = found.xyxy / self.scale + np.array([self.left, self.top, self.left, self.top], np.float32)
        found.landmarks = found.landmarks / self.scale + np.array([self.left, self.top], np.float32)
        return found


def joined_windows(windows: list[Window]) -> list[Window]:
    """Overlapping windows of one scale joined where their union has no more pixels than the two apart (faces side
    by side in a row of a class): the union of two windows on a grid is on it, so nothing changes for the faces
    inside, and the network looks at fewer pixels in fewer runs."""
    windows = list(windows)
    joined = True
    while joined:
        joined = False
        for i, j in itertools.combinations(range(len(windows)), 2):
            a, b = windows[i], windows[j]
            union = replace(
                a, left=min(a.left, b.left), top=min(a.top, b.top), right=max(a.right, b.right),
                bottom=max(a.bottom, b.bottom),
            )  # fmt: skip
            if a.scale == b.scale and union.area <= a.area + b.area:
                windows[i], joined = union, True
                del windows[j]
                break
    return windows


def face_window(frame_shape: tuple[int, ...], box: np.ndarray, config: FollowingConfig) -> Window:
    """The window around ``box``: ``window_sides`` face sides across, centred on it, widened to the grid of the
    scale that keeps the face at least ``face_px`` across."""
    height, width = frame_shape[:2]
    face = float(max(box[2] - box[0], box[3] - box[1], 1.0))
    halvings = max(math.floor(math.log2(face / config.face_px)), 0) if face >= 2 * config.face_px else 0
    grid = GRID_PX * 2**halvings  # frame pixels per network grid cell at this scale
    half = face * config.window_sides / 2
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    left = max(math.floor((centre_x - half) / grid) * grid, 0)
    top = max(math.floor((centre_y - half) / grid) * grid, 0)
    right = min(max(_grid_up(centre_x + half, grid), left + grid), width)
    bottom = min(max(_grid_up(centre_y + half, grid), top + grid), height)
    return Window(left, top, right, bottom, width, height, 1 / 2**halvings)


def _grid_up(value: float, grid: int = GRID_PX) -> int:
    return math.ceil(value / grid) * grid


def _padded(part: np.ndarray, height: int, width: int) -> np.ndarray:
    """``part`` on black at the top-left of a ``height`` x ``width`` image, as the network pads a frame."""
    if part.shape[:2] == (height, width):
        return part
    image = np.zeros((height, width, 3), np.uint8)
    image[: part.shape[0], : part.shape[1]] = part
    return image
