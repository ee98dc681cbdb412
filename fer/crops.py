"""Cut face crops out of a frame, framed like FER2013's training images.

FER2013 faces are tight, roughly square crops; CenterFace boxes are tighter and
taller than wide. Each crop is the square around the box's centre with side
``max(w, h) * (1 + 2 * margin)``; the default margin was chosen by
``bench/crop_margin.py`` (accuracy on FER2013 test faces re-detected by CenterFace).
"""

from __future__ import annotations

import cv2
import numpy as np

DEFAULT_MARGIN = 0.1


def square_boxes(xyxy: np.ndarray, margin: float = DEFAULT_MARGIN) -> np.ndarray:
    """xyxy boxes -> integer squares around the same centres, grown by ``margin`` per side."""
    xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
    half = np.max(xyxy[:, 2:] - xyxy[:, :2], axis=1, keepdims=True) * (0.5 + margin)
    half = np.maximum(half, 1.0)
    return np.round(np.hstack([centre - half, centre + half])).astype(np.int64)


def face_crops(frame: np.ndarray, xyxy: np.ndarray, margin: float = DEFAULT_MARGIN) -> list[np.ndarray]:
    """Grayscale square crops for each box; parts outside the frame repeat the edge pixels."""
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape
    crops = []
    for x1, y1, x2, y2 in square_boxes(xyxy, margin):
        inside = gray[max(y1, 0) : min(y2, height), max(x1, 0) : min(x2, width)]
        if inside.size == 0:
            inside = np.zeros((1, 1), np.uint8)
        pads = (max(-y1, 0), max(y2 - height, 0), max(-x1, 0), max(x2 - width, 0))
        crops.append(cv2.copyMakeBorder(inside, *pads, cv2.BORDER_REPLICATE) if any(pads) else inside)
    return crops
