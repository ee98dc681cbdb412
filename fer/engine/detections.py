"""The one data type that flows through every video stage: the faces of one frame.

Parallel arrays, one row per face (the shape `supervision` uses), so stages stay
vectorised and a frame with no faces is just zero-length arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fer.labels import CLASSES, NUM_CLASSES

UNTRACKED = -1
# Why a face was not read; ``Detections.unreadable`` holds 0 (readable) or 1 + the index here.
UNREADABLE_REASONS = ("small", "pose", "blur", "uncertain")


def _empty_probs() -> np.ndarray:
    return np.full((0, NUM_CLASSES), np.nan, np.float32)


@dataclass
class Detections:
    """Faces found in one frame.

    ``xyxy`` are boxes in source-frame pixels; ``probs`` are class probabilities in
    ``CLASSES`` order (NaN until classified, and on faces that could not be read);
    ``track_id`` is ``UNTRACKED`` until a tracker assigns one; ``landmarks`` are the
    detector's five points (eyes, nose, mouth corners; NaN where the tracker predicted
    the box); ``unreadable`` is 0 for a readable face, else 1 + its index in
    ``UNREADABLE_REASONS``.
    """

    xyxy: np.ndarray = field(default_factory=lambda: np.empty((0, 4), np.float32))
    score: np.ndarray = field(default_factory=lambda: np.empty(0, np.float32))
    track_id: np.ndarray | None = None
    probs: np.ndarray | None = None
    landmarks: np.ndarray | None = None
    unreadable: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.xyxy = np.asarray(self.xyxy, np.float32).reshape(-1, 4)
        self.score = np.asarray(self.score, np.float32).reshape(-1)
        n = len(self.xyxy)
        if self.track_id is None:
            self.track_id = np.full(n, UNTRACKED, np.int64)
        if self.probs is None:
            self.probs = np.full((n, NUM_CLASSES), np.nan, np.float32) if n else _empty_probs()
        if self.landmarks is None:
            self.landmarks = np.full((n, 5, 2), np.nan, np.float32)
        if self.unreadable is None:
            self.unreadable = np.zeros(n, np.int8)
        self.track_id = np.asarray(self.track_id, np.int64).reshape(-1)
        self.probs = np.asarray(self.probs, np.float32).reshape(-1, NUM_CLASSES)
        self.landmarks = np.asarray(self.landmarks, np.float32).reshape(-1, 5, 2)
        self.unreadable = np.asarray(self.unreadable, np.int8).reshape(-1)
        rows = (len(self.score), len(self.track_id), len(self.probs), len(self.landmarks), len(self.unreadable))
        if any(r != n for r in rows):
            raise ValueError("Detections arrays must have one row per face")

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Detections:
        """Rows selected by a boolean mask, an index array or a slice."""
        return Detections(
            self.xyxy[index],
            self.score[index],
            self.track_id[index],
            self.probs[index],
            self.landmarks[index],
            self.unreadable[index],
        )

    @classmethod
    def concat(cls, parts: list[Detections]) -> Detections:
        """The rows of ``parts``, one after the other."""
        columns = ("xyxy", "score", "track_id", "probs", "landmarks", "unreadable")
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in columns))

    @property
    def readable(self) -> np.ndarray:
        return self.unreadable == 0

    @property
    def unreadable_reasons(self) -> list[str]:
        """Per face: '' when readable, else why not (one of ``UNREADABLE_REASONS``)."""
        return ["" if code == 0 else UNREADABLE_REASONS[code - 1] for code in self.unreadable]

    @property
    def wh(self) -> np.ndarray:
        return self.xyxy[:, 2:] - self.xyxy[:, :2]

    @property
    def classified(self) -> np.ndarray:
        """Faces that carry an expression (readable and classified)."""
        return ~np.isnan(self.probs).any(axis=1) & self.readable

    @property
    def class_index(self) -> np.ndarray:
        """Most probable class per face; -1 where there is no expression (unread or not yet classified)."""
        if not len(self):
            return np.empty(0, np.int64)
        best = np.nan_to_num(self.probs, nan=0.0).argmax(axis=1)
        return np.where(self.classified, best, -1)

    @property
    def labels(self) -> list[str]:
        """Per face: its most probable class, or '' where there is no expression."""
        return [CLASSES[i] if i >= 0 else "" for i in self.class_index]

    @property
    def confidence(self) -> np.ndarray:
        """Top probability per face (0 where there is no expression)."""
        if not len(self):
            return np.empty(0, np.float32)
        return np.where(self.classified, np.nan_to_num(self.probs, nan=0.0).max(axis=1), 0.0).astype(np.float32)


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
