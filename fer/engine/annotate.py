"""Draw what the engine saw onto a frame: boxes, class + confidence, track id; optional face blurring."""

from __future__ import annotations

import cv2
import numpy as np

from fer.engine.crops import square_boxes
from fer.engine.detections import Detections
from fer.labels import CLASSES

# One colour per class (BGR), distinguishable and readable on light and dark video.
CLASS_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220),
    "disgust": (40, 140, 40),
    "fear": (160, 60, 160),
    "happy": (0, 200, 255),
    "sad": (200, 120, 40),
    "surprise": (200, 200, 0),
    "neutral": (170, 170, 170),
}
_UNCLASSIFIED = (255, 255, 255)


def blur_faces(frame: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
    """Pixelate then blur each box (grown by a quarter per side) in place; returns ``frame``.

    Pixelating first destroys detail a Gaussian blur alone can leave recoverable.
    """
    height, width = frame.shape[:2]
    for x1, y1, x2, y2 in square_boxes(xyxy, margin=0.25):
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
        if x2 <= x1 or y2 <= y1:  # entirely outside the frame
            continue
        region = frame[y1:y2, x1:x2]
        small = cv2.resize(region, (6, 6), interpolation=cv2.INTER_AREA)
        blocky = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
        kernel = max(3, ((x2 - x1) // 4) | 1)
        frame[y1:y2, x1:x2] = cv2.GaussianBlur(blocky, (kernel, kernel), 0)
    return frame


class FaceAnnotator:
    """``annotate(frame, detections)`` returns an annotated copy; the input frame is untouched.

    With ``blur=True`` every box in ``detections`` and in ``blur_boxes`` (e.g. all raw
    detections, tracked or not) is blurred before drawing.
    """

    def __init__(self, blur: bool = False) -> None:
        self.blur = blur

    def annotate(self, frame: np.ndarray, detections: Detections, blur_boxes: np.ndarray | None = None) -> np.ndarray:
        canvas = frame.copy()
        if self.blur:
            boxes = detections.xyxy if blur_boxes is None else np.vstack([detections.xyxy, blur_boxes])
            blur_faces(canvas, boxes)
        thickness = max(1, round(max(frame.shape[:2]) / 500))
        font_scale = 0.4 * thickness
        classified = ~np.isnan(detections.probs).any(axis=1)
        for box, track_id, class_index, confidence, known in zip(
            detections.xyxy.round().astype(int),
            detections.track_id,
            detections.class_index,
            detections.confidence,
            classified,
            strict=True,
        ):
            label = CLASSES[class_index]
            color = CLASS_COLORS[label] if known else _UNCLASSIFIED
            x1, y1, x2, y2 = box
            cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness)
            text = f"#{track_id} {label} {confidence:.2f}" if known else f"#{track_id}"
            _draw_label(canvas, text, (x1, y1), color, font_scale, thickness)
        return canvas


def _draw_label(
    canvas: np.ndarray, text: str, corner: tuple[int, int], color: tuple[int, int, int], scale: float, thickness: int
) -> None:
    """Text on a filled tag above the box (below its top edge when the box touches the frame top)."""
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = corner
    top = y - text_h - baseline - 2 if y - text_h - baseline - 2 >= 0 else y
    cv2.rectangle(canvas, (x, top), (x + text_w + 2, top + text_h + baseline + 2), color, cv2.FILLED)
    ink = (0, 0, 0) if sum(color) > 380 else (255, 255, 255)
    cv2.putText(canvas, text, (x + 1, top + text_h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, thickness, cv2.LINE_AA)
