"""The picture's shift between analysed frames, which every track follows."""

import cv2
import numpy as np

from fer.engine.camera_motion import CameraMotion
from tests.conftest import portrait


def _shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT)


def test_a_panning_camera_gives_its_shift_in_image_pixels() -> None:
    scene = cv2.resize(portrait(), (1024, 1200))[200:776]  # 1024x576, larger than the 320 px work copy
    motion = CameraMotion()
    assert not motion.update(scene).any()  # nothing to compare the first frame with
    np.testing.assert_allclose(motion.update(_shifted(scene, 24, -10)), [24, -10], atol=1.5)
    np.testing.assert_allclose(motion.update(_shifted(scene, 24, -10)), [0, 0], atol=1.0)  # the camera stopped


def test_a_cut_to_another_scene_gives_no_shift() -> None:
    motion = CameraMotion()
    motion.update(cv2.resize(portrait(), (640, 360)))
    noise = np.random.default_rng(0).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    assert not motion.update(noise).any()
    motion.reset()
    assert not motion.update(noise).any()


def test_a_cut_is_told_apart_from_a_pan() -> None:
    scene = cv2.resize(portrait(), (640, 360))
    motion = CameraMotion()
    motion.update(scene)
    motion.update(_shifted(scene, 8, 4))
    assert not motion.changed  # the same picture, moved
    motion.update(np.random.default_rng(1).integers(0, 256, (360, 640, 3), dtype=np.uint8))
    assert motion.changed  # another picture: what was known of the faces no longer holds
