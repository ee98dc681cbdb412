import cv2
import numpy as np
import pytest

from fer.engine.detection import CenterFaceDetector
from fer.engine.detections import box_iou
from tests.conftest import portrait

FACE_BOX = np.array([[175, 131, 357, 336]], np.float32)  # Grace Hopper's face in the 512x600 photo


@pytest.fixture(scope="module")
def detector() -> CenterFaceDetector:
    return CenterFaceDetector(threads=1)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    image = portrait()
    assert image is not None and image.shape == (600, 512, 3)
    return image


def test_finds_the_one_face_in_a_portrait(detector: CenterFaceDetector, photo: np.ndarray) -> None:
    faces = detector.detect(photo)
    assert len(faces) == 1
    assert faces.score[0] > 0.5
    x1, y1, x2, y2 = faces.xyxy[0]
    assert 0 <= x1 < x2 <= 512 and 0 <= y1 < y2 <= 600
    assert box_iou(faces.xyxy, FACE_BOX)[0, 0] > 0.5


def test_finds_both_faces_side_by_side(detector: CenterFaceDetector, photo: np.ndarray) -> None:
    faces = detector.detect(np.hstack([photo, photo]))
    assert len(faces) == 2
    shifted = FACE_BOX + np.array([512, 0, 512, 0])
    iou = box_iou(faces.xyxy, np.vstack([FACE_BOX, shifted]))
    assert (iou.max(axis=0) > 0.5).all()


def test_boxes_are_clipped_to_the_frame(detector: CenterFaceDetector, photo: np.ndarray) -> None:
    right_half = np.ascontiguousarray(photo[:, 260:])  # face cut by the left edge
    faces = detector.detect(right_half)
    assert len(faces) == 1
    assert faces.xyxy[0, 0] == 0.0 and faces.xyxy[0, 2] <= right_half.shape[1]


@pytest.mark.parametrize(
    "frame",
    [
        np.full((480, 640, 3), 128, np.uint8),
        np.random.default_rng(0).integers(0, 256, size=(480, 640, 3), dtype=np.uint8),
    ],
    ids=["uniform-gray", "noise"],
)
def test_finds_nothing_without_faces(detector: CenterFaceDetector, frame: np.ndarray) -> None:
    faces = detector.detect(frame)
    assert len(faces) == 0 and faces.xyxy.shape == (0, 4)


def test_shrunk_detection_returns_source_pixel_boxes(detector: CenterFaceDetector, photo: np.ndarray) -> None:
    big = cv2.resize(photo, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)  # 1024x1200
    native = detector.detect(big)
    shrunk = CenterFaceDetector(max_side=600, threads=1).detect(big)
    assert len(native) == len(shrunk) == 1
    assert box_iou(shrunk.xyxy, native.xyxy)[0, 0] > 0.7
    assert box_iou(shrunk.xyxy, FACE_BOX * 2)[0, 0] > 0.5


def test_a_higher_threshold_drops_weaker_faces(photo: np.ndarray) -> None:
    assert len(CenterFaceDetector(threshold=0.95, threads=1).detect(photo)) == 0


@pytest.mark.parametrize("shape", [(77, 101, 3), (1, 200, 3), (200, 1, 3), (1, 1, 3)])
def test_odd_frame_sizes_do_not_crash(detector: CenterFaceDetector, shape: tuple[int, ...]) -> None:
    frame = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    assert len(detector.detect(frame)) == 0


def test_odd_frame_sizes_do_not_crash_when_shrinking() -> None:
    frame = np.zeros((1, 2000, 3), np.uint8)  # shrinks to 1x600 (height rounded up to one row)
    assert len(CenterFaceDetector(max_side=600, threads=1).detect(frame)) == 0


@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1, 1.5])
def test_invalid_threshold_is_rejected(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        CenterFaceDetector(threshold=threshold)
