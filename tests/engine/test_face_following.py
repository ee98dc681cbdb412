"""Detection around the tracked faces: the same boxes as a whole-frame look, at a fraction of the pixels."""

import cv2
import numpy as np
import pytest

from fer.engine.detection import CenterFaceDetector
from fer.engine.detections import box_iou
from fer.engine.face_following import GRID_PX, FaceFollowingDetector, FollowingConfig, face_window
from tests.conftest import portrait


@pytest.fixture(scope="module")
def detector() -> CenterFaceDetector:
    return CenterFaceDetector(threads=1)


def _classroom(face_px: int, places: list[tuple[int, int]], size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """A grey room with the portrait's face, ``face_px`` wide, at each of ``places`` (top-left corners)."""
    photo = portrait()[131:336, 175:357]  # Grace Hopper's face
    face = cv2.resize(photo, (face_px, round(face_px * 205 / 182)), interpolation=cv2.INTER_AREA)
    frame = np.full((size[1], size[0], 3), 90, np.uint8)
    for x, y in places:
        frame[y : y + face.shape[0], x : x + face.shape[1]] = face
    return frame


@pytest.mark.parametrize(("face_px", "scale"), [(40, 1.0), (90, 1.0), (260, 0.5)])  # a close-up is looked at halved
def test_windows_find_the_same_boxes_as_a_whole_frame_look(
    detector: CenterFaceDetector, face_px: int, scale: float
) -> None:
    frame = _classroom(face_px, [(101, 77), (613, 301), (1013, 405)] if face_px < 200 else [(455, 203)])
    whole = detector.detect(frame, scale=scale)  # what a whole-frame look at the window's scale finds
    assert len(whole) == (3 if face_px < 200 else 1)
    following = FaceFollowingDetector(detector)
    windows = following.in_windows(frame, whole.xyxy + 6)  # predictions a few pixels off, as a tracker's are
    assert len(windows) == len(whole)
    iou = box_iou(whole.xyxy, windows.xyxy)
    # the measured spread on the shared clips: a median 0.1 % of the face's side, 6 % at the 90th percentile
    assert (iou.max(axis=1) > 0.9).all(), iou
    sides = (whole.xyxy[:, 2:] - whole.xyxy[:, :2]).max(axis=1)
    matched = windows.xyxy[iou.argmax(axis=1)]
    assert (np.abs(matched - whole.xyxy).max(axis=1) <= 0.06 * sides).all()


def test_windows_lie_on_the_network_grid_and_a_large_face_is_looked_at_halved() -> None:
    config = FollowingConfig()
    small = face_window((1080, 1920, 3), np.array([500.0, 300, 540, 340]), config)
    assert small.scale == 1.0 and small.left % GRID_PX == 0 and small.top % GRID_PX == 0
    assert small.left <= 500 - 40 and small.right >= 540 + 40  # room around the face
    large = face_window((1080, 1920, 3), np.array([800.0, 300, 1200, 700]), config)  # 400 px: halved twice
    assert large.scale == 0.25 and large.left % (4 * GRID_PX) == 0 and large.top % (4 * GRID_PX) == 0
    off = face_window((1080, 1920, 3), np.array([2500.0, 300, 2540, 340]), config)  # predicted off the frame
    assert off.right <= off.left


def test_between_whole_frame_looks_only_the_tracked_faces_are_found(detector: CenterFaceDetector) -> None:
    frame = _classroom(60, [(101, 77), (900, 400)])
    following = FaceFollowingDetector(detector, FollowingConfig(full_every_s=2.0))
    first = following.detect(frame, 0.0, np.empty((0, 4)))
    assert following.full and len(first) == 2
    tracked = first.xyxy[:1]  # the tracker follows only the first face
    between = following.detect(frame, 1.0, tracked)
    assert not following.full and len(between) == 1 and box_iou(between.xyxy, tracked)[0, 0] > 0.9
    again = following.detect(frame, 2.0, tracked)
    assert following.full and len(again) == 2  # the next whole-frame look finds the other face again
    following.reset()
    following.detect(frame, 2.5, tracked)
    assert following.full  # a new session starts with a whole-frame look


def test_windows_of_faces_side_by_side_are_joined_and_far_ones_are_not() -> None:
    from fer.engine.face_following import joined_windows

    config = FollowingConfig()
    row = [face_window((720, 1280, 3), np.array([x, 300.0, x + 40, 340]), config) for x in (400.0, 450.0, 500.0)]
    far = face_window((720, 1280, 3), np.array([1100.0, 100, 1140, 140]), config)
    joined = joined_windows([*row, far])
    assert len(joined) == 2 and far in joined
    (row_window,) = [w for w in joined if w != far]
    assert row_window.left == min(w.left for w in row) and row_window.right == max(w.right for w in row)
    assert row_window.area < sum(w.area for w in row)  # fewer pixels than the three apart
