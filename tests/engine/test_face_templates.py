import cv2
import numpy as np
import pytest

from fer.engine.detection import CenterFaceDetector
from fer.engine.detections import Detections
from fer.engine.face_following import FaceFollowingDetector, FollowingConfig
from fer.engine.face_templates import TemplateFollower
from tests.conftest import portrait

FACE = np.array([175, 131, 357, 336], np.float32)  # Grace Hopper's face in the 512x600 photo
LANDMARKS = np.array([[230, 210], [300, 210], [265, 250], [235, 290], [295, 290]], np.float32)


def _scene(dx: float, dy: float) -> np.ndarray:
    """The photo on a grey 900x800 frame, its top-left at (100 + dx, 50 + dy), sub-pixel shifts interpolated."""
    frame = np.full((800, 900, 3), 120, np.uint8)
    shift = np.float32([[1, 0, 100 + dx], [0, 1, 50 + dy]])
    return cv2.warpAffine(portrait(), shift, (900, 800), dst=frame, borderMode=cv2.BORDER_TRANSPARENT)


def _known_face() -> Detections:
    offset = np.array([100, 50, 100, 50], np.float32)
    return Detections(xyxy=FACE[None] + offset, score=[0.9], landmarks=(LANDMARKS + np.float32([100, 50]))[None])


@pytest.mark.parametrize(("dx", "dy"), [(0.0, 0.0), (12.0, -7.0), (20.4, 9.6)])
def test_a_moved_face_is_found_where_it_went(dx: float, dy: float) -> None:
    follower = TemplateFollower()
    follower.remember(_scene(0, 0), _known_face())
    expected = _known_face().xyxy  # the tracker expects it where it was
    found, missed = follower.follow(_scene(dx, dy), expected)
    assert len(missed) == 0 and len(found) == 1
    np.testing.assert_allclose(found.xyxy[0], expected[0] + [dx, dy, dx, dy], atol=1.0)  # 0.5 % of its side
    np.testing.assert_allclose(found.landmarks[0], _known_face().landmarks[0] + [dx, dy], atol=1.0)
    assert found.score[0] == pytest.approx(0.9)


def test_a_face_that_is_gone_or_unknown_is_left_to_the_detector() -> None:
    follower = TemplateFollower()
    empty = np.full((800, 900, 3), 120, np.uint8)
    empty[::7] = 40  # stripes: something to correlate with, nothing like a face
    assert len(follower.follow(_scene(0, 0), _known_face().xyxy)[1]) == 1  # no picture yet
    follower.remember(_scene(0, 0), _known_face())
    found, missed = follower.follow(empty, _known_face().xyxy)
    assert len(found) == 0 and missed.tolist() == [0]
    far = _known_face().xyxy + np.float32([500, 0, 500, 0])  # nowhere near the picture's face: not taken for it
    assert follower.follow(_scene(0, 0), far)[1].tolist() == [0]
    follower.reset()
    assert follower.follow(_scene(0, 0), _known_face().xyxy)[1].tolist() == [0]


class _CountingDetector(CenterFaceDetector):
    def __init__(self) -> None:
        super().__init__(threads=1)
        self.windows = 0

    def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
        self.windows += len(images)
        return super().detect_batch(images)


def test_between_whole_looks_a_face_that_looks_the_same_costs_no_window() -> None:
    detector = _CountingDetector()
    following = FaceFollowingDetector(detector, FollowingConfig(full_every_s=10.0))
    whole = following.detect(_scene(0, 0), 0.0, np.empty((0, 4), np.float32))
    assert following.full and len(whole) == 1
    moved = following.detect(_scene(9, 4), 0.4, whole.xyxy)
    assert not following.full and detector.windows == 0
    np.testing.assert_allclose(moved.xyxy[0], whole.xyxy[0] + [9, 4, 9, 4], atol=1.0)
    blank = np.full((800, 900, 3), 120, np.uint8)  # the face left: its window is looked at, nothing found
    assert len(following.detect(blank, 0.8, moved.xyxy)) == 0 and detector.windows == 1


def test_without_pictures_every_known_face_gets_a_window() -> None:
    detector = _CountingDetector()
    following = FaceFollowingDetector(detector, FollowingConfig(full_every_s=10.0, min_match=None))
    whole = following.detect(_scene(0, 0), 0.0, np.empty((0, 4), np.float32))
    following.detect(_scene(9, 4), 0.4, whole.xyxy)
    assert detector.windows == 1
