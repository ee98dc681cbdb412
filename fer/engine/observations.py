"""What the Live page's browser mode sends instead of video: per analysed frame, the faces it found, as numbers.

In browser mode the teacher's browser detects the faces and reads their expressions itself
(``fer/app/browser_live``); only these numbers reach the server, about once a second, and the server's engine
does the rest (tracking, readability decisions, smoothing, the live panel, saving). They come from a client, so
they are checked here as hostile input: anything malformed, out of range or too large rejects the whole batch
with a message that says why, and nothing of it is analysed or stored.

One face is one row of ``FACE_FIELDS`` numbers: its box and landmarks in the frame's pixels, the detector's
score, the crop's brightness, contrast and sharpness (``fer.engine.readability.image_signals``) and the
calibrated class probabilities in ``CLASSES`` order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise

import cv2
import numpy as np

from fer.engine.classifier import EmotionClassifier
from fer.engine.crops import DEFAULT_MARGIN, face_crops
from fer.engine.detection import CenterFaceDetector
from fer.engine.detections import Detections
from fer.engine.preprocess import to_gray48
from fer.engine.readability import image_signals
from fer.labels import NUM_CLASSES

FACE_FIELDS = 4 + 1 + 10 + 3 + NUM_CLASSES  # box, score, 5 landmarks (x, y), brightness/contrast/sharpness, probs
_BOX, _SCORE, _LANDMARKS, _SIGNALS, _PROBS = slice(0, 4), 4, slice(5, 15), slice(15, 18), slice(18, FACE_FIELDS)
MAX_FRAMES = 90  # a batch is about a second: 30 frames at most at a camera's rate, three times that is hostile
MAX_FACES = 64  # a 7x7 call gallery is 49
MAX_SIDE = 4096  # px: a 4K screen shared whole
MAX_SPAN_S = 10.0  # a batch covers at most this much of the browser's clock
KEYS = {"key", "seq", "frames", "ended"}
FRAME_KEYS = {"t", "w", "h", "faces"}


class ObservationError(ValueError):
    """A batch the server will not take; the message says why (shown to the teacher, nothing stored)."""


@dataclass(frozen=True)
class ObservedFrame:
    """One frame the browser analysed: ``t`` seconds on the browser's clock, ``signals`` (N, 3) brightness,
    contrast and sharpness of each face's 48x48 crop, ``detections`` with boxes, scores, landmarks and probs."""

    t: float
    width: int
    height: int
    detections: Detections
    signals: np.ndarray


@dataclass(frozen=True)
class ObservedBatch:
    key: str  # the key the page gave this browser's component: a batch for another live session is refused
    seq: int  # the component counts its batches; the page analyses each once
    frames: tuple[ObservedFrame, ...]
    ended: bool  # the teacher stopped: save the session after this batch


def parse_batch(message: object, expected_key: str) -> ObservedBatch:
    """The component's value, checked: an ``ObservedBatch``, or ``ObservationError`` saying what is wrong."""
    if not isinstance(message, Mapping):
        raise ObservationError("a batch must be an object")
    if set(message) != KEYS:
        raise ObservationError(f"a batch has exactly the fields {sorted(KEYS)}")  # never echo a client's text
    if message["key"] != expected_key:
        raise ObservationError("the batch is for another live session")
    seq, frames, ended = message["seq"], message["frames"], message["ended"]
    if not _is_int(seq) or seq < 0 or not isinstance(ended, bool):
        raise ObservationError("seq must be a counter and ended true or false")
    if not isinstance(frames, list) or len(frames) > MAX_FRAMES:
        raise ObservationError(f"a batch holds a list of at most {MAX_FRAMES} frames")
    parsed = tuple(_frame(frame) for frame in frames)
    times = [frame.t for frame in parsed]
    if any(later <= earlier for earlier, later in pairwise(times)):
        raise ObservationError("frame times must increase")
    if times and times[-1] - times[0] > MAX_SPAN_S:
        raise ObservationError(f"a batch covers at most {MAX_SPAN_S:.0f} s")
    return ObservedBatch(message["key"], seq, parsed, ended)


def refused_until(message: object) -> float | None:
    """The browser time of a refused batch's newest frame, if it says one: confirming it makes the component drop
    the batch's frames instead of sending them again (one bad frame would otherwise spoil every batch after it)."""
    frames = message.get("frames") if isinstance(message, Mapping) else None
    newest = frames[-1].get("t") if isinstance(frames, list) and frames and isinstance(frames[-1], Mapping) else None
    return float(newest) if _is_number(newest) else None


def _frame(frame: object) -> ObservedFrame:
    if not isinstance(frame, Mapping) or set(frame) != FRAME_KEYS:
        raise ObservationError(f"a frame has exactly the fields {sorted(FRAME_KEYS)}")
    t, width, height, faces = frame["t"], frame["w"], frame["h"], frame["faces"]
    if not _is_number(t) or not 0 <= t < 1e11:
        raise ObservationError("a frame's time must be seconds on the browser's clock")
    if not (_is_int(width) and _is_int(height) and 16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
        raise ObservationError(f"a frame is 16 to {MAX_SIDE} px a side")
    if not isinstance(faces, list) or len(faces) > MAX_FACES:
        raise ObservationError(f"a frame holds a list of at most {MAX_FACES} faces")
    if not all(isinstance(row, list) and len(row) == FACE_FIELDS and all(map(_is_number, row)) for row in faces):
        raise ObservationError(f"a face is a list of {FACE_FIELDS} finite numbers")
    rows = np.asarray(faces, np.float64).reshape(-1, FACE_FIELDS)
    _check_faces(rows, width, height)
    detections = Detections(
        xyxy=rows[:, _BOX],
        score=rows[:, _SCORE],
        landmarks=rows[:, _LANDMARKS].reshape(-1, 5, 2),
        probs=rows[:, _PROBS],
    )
    return ObservedFrame(float(t), int(width), int(height), detections, rows[:, _SIGNALS].astype(np.float32))


def _check_faces(rows: np.ndarray, width: int, height: int) -> None:
    boxes = rows[:, _BOX]
    inside = (boxes[:, 0] >= 0) & (boxes[:, 1] >= 0) & (boxes[:, 2] <= width) & (boxes[:, 3] <= height)
    if not (inside & (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])).all():
        raise ObservationError("a face's box must lie inside its frame")
    points = rows[:, _LANDMARKS].reshape(-1, 5, 2)
    if (np.abs(points - [width / 2, height / 2]) > [width, height]).any():
        raise ObservationError("a face's landmarks must lie near its frame")
    if not ((rows[:, _SCORE] >= 0) & (rows[:, _SCORE] <= 1)).all():
        raise ObservationError("a face's score is between 0 and 1")
    brightness, contrast, sharpness = rows[:, _SIGNALS].T
    if not ((brightness <= 255) & (contrast <= 128) & (sharpness <= 1e4) & (rows[:, _SIGNALS] >= 0).all(1)).all():
        raise ObservationError("a face's brightness, contrast or sharpness is out of range")
    probs = rows[:, _PROBS]
    if not (((probs >= 0) & (probs <= 1)).all() and np.allclose(probs.sum(axis=1), 1, atol=0.01)):
        raise ObservationError("a face's probabilities must be between 0 and 1 and sum to 1")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def observe(
    image: np.ndarray,
    detector: CenterFaceDetector,
    classifier: EmotionClassifier,
    scale: float = 1.0,
    margin: float = DEFAULT_MARGIN,
) -> list[list[float]]:
    """What the browser computes for one BGR frame, done by the server's own code: the face rows of an observed
    frame, detected at ``scale``. The reference the browser's parity test and ``bench/browser_live.py`` compare with.
    """
    found = detector.detect(image, scale=scale)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    faces48 = np.stack([to_gray48(crop) for crop in face_crops(grey, found.xyxy, margin)]) if len(found) else None
    if faces48 is None:
        return []
    rows = np.column_stack(
        [found.xyxy, found.score, found.landmarks.reshape(-1, 10), image_signals(faces48), classifier.predict(faces48)]
    )
    return rows.astype(np.float64).tolist()
