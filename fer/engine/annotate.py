"""Draw what the engine saw onto a frame: boxes, class + confidence, track id, faces not read in grey; optional
face blurring."""

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
UNREAD_COLOR = (150, 150, 150)  # grey: a face present whose expression could not be read
MIN_PLATE_FACE_PX = 24  # smaller faces get a coloured marker, not a label plate many times their size


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
        """Faces read: a box in the expression's colour and a label plate sized to the face, placed where it
        covers no other plate (tiny faces get a small marker instead). Faces not read: a thin grey box only."""
        canvas = frame.copy()
        if self.blur:
            boxes = detections.xyxy if blur_boxes is None else np.vstack([detections.xyxy, blur_boxes])
            blur_faces(canvas, boxes)
        thickness = max(1, round(max(frame.shape[:2]) / 500))
        plates: list[tuple[int, int, int, int]] = []
        rows = zip(
            detections.xyxy.round().astype(int),
            detections.track_id,
            detections.class_index,
            detections.confidence,
            strict=True,
        )
        for (x1, y1, x2, y2), track_id, class_index, confidence in rows:
            if class_index < 0:  # not read: it stays visible as a face present, without a guess
                cv2.rectangle(canvas, (x1, y1), (x2, y2), UNREAD_COLOR, 1)
                continue
            color = CLASS_COLORS[CLASSES[class_index]]
            width = x2 - x1
            cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness if width >= MIN_PLATE_FACE_PX else 1)
            text = f"#{track_id} {CLASSES[class_index]} {confidence:.2f}"
            scale = float(np.clip(width / 150, 0.3, 0.4 * thickness + 0.2))
            plate = _plate(canvas, text, (x1, y1, x2, y2), scale, plates) if width >= MIN_PLATE_FACE_PX else None
            if plate is None:
                radius = max(2, min(6, width // 6))
                cv2.circle(canvas, (x1 + radius, y1 + radius), radius, color, cv2.FILLED)
                continue
            plates.append(plate)
            _draw_plate(canvas, text, plate, color, scale)
        return canvas


def _plate(
    canvas: np.ndarray,
    text: str,
    box: tuple[int, int, int, int],
    scale: float,
    taken: list[tuple[int, int, int, int]],
) -> tuple[int, int, int, int] | None:
    """Where the label fits: above the box, else inside its top, else below it; None if every place covers
    another plate or leaves the frame."""
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    x1, y1, _, y2 = box
    plate_h = text_h + baseline + 2
    height, width = canvas.shape[:2]
    for top in (y1 - plate_h, y1, y2):
        plate = (x1, top, x1 + text_w + 2, top + plate_h)
        inside = plate[1] >= 0 and plate[3] <= height and plate[0] >= 0 and plate[2] <= width + text_w // 2
        if inside and not any(_overlap(plate, other) for other in taken):
            return plate
    return None


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _draw_plate(
    canvas: np.ndarray, text: str, plate: tuple[int, int, int, int], color: tuple[int, int, int], scale: float
) -> None:
    x1, top, x2, bottom = plate
    cv2.rectangle(canvas, (x1, top), (x2, bottom), color, cv2.FILLED)
    ink = (0, 0, 0) if sum(color) > 380 else (255, 255, 255)
    (_, text_h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.putText(canvas, text, (x1 + 1, top + text_h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, ink, 1, cv2.LINE_AA)
