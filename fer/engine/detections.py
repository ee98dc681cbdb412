"""The one data type that flows through every video stage: the faces of one frame.

Parallel arrays, one row per face (the shape `supervision` uses), so stages stay
vectorised and a frame with no faces is just zero-length arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer.labels import CLASSES, NUM_CLASSES

UNTRACKED = -1


def _empty_probs() -> np.ndarray:
    return np.full((0, NUM_CLASSES), np.nan, np.float32)


@dataclass
class Detections:
    """Faces found in one frame.

    ``xyxy`` are boxes in source-frame pixels; ``probs`` are class probabilities in
    ``CLASSES`` order (NaN until classified); ``track_id`` is ``UNTRACKED`` until a
    tracker assigns one.
    """

    xyxy: np.ndarray = field(default_factory=lambda: np.empty((0, 4), np.float32))
    score: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    track_id: np.ndarray | None = None
    probs: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.xyxy = np.asarray(self.xyxy, np.float32).reshape(-1, 4)
        self.score = np.asarray(self.score, np.float32).reshape(-1)
        n = len(self.xyxy)
        if self.track_id is None:
            self.track_id = np.full(n, UNTRACKED, np.int64)
        if self.probs is None:
            self.probs = np.full((n, NUM_CLASSES), np.nan, np.float32) if n else _empty_probs()
        self.track_id = np.asarray(self.track_id, np.int64).reshape(-1)
        self.probs = np.asarray(self.probs, np.float32).reshape(-1, NUM_CLASSES)
        if not (len(self.score) == len(self.track_id) == len(self.probs) == n):
            raise ValueError("Detections arrays must have one row per face")

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Detections:
        """Rows selected by a boolean mask, an index array or a slice."""
        return Detections(self.xyxy[index], self.score[index], self.track_id[index], self.probs[index])

    @property
    def wh(self) -> np.ndarray:
        return self.xyxy[:, 2:] - self.xyxy[:, :2]

    @property
    def class_index(self) -> np.ndarray:
        """Most probable class per face (0 where not yet classified)."""
        probs = np.nan_to_num(self.probs, nan=0.0)
        return probs.argmax(axis=1) if len(self) else np.empty(0, np.int64)

    @property
    def labels(self) -> list[str]:
        return [CLASSES[i] for i in self.class_index]

    @property
    def confidence(self) -> np.ndarray:
        return np.nan_to_num(self.probs, nan=0.0).max(axis=1) if len(self) else np.empty(0, np.float32)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of (N, 4) and (M, 4) xyxy boxes -> (N, M)."""
    a = np.asarray(a, np.float32).reshape(-1, 4)
    b = np.asarray(b, np.float32).reshape(-1, 4)
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1e-9), 0.0)
