from collections.abc import Callable

import cv2
import numpy as np
import pytest

from fer.engine.detections import Detections
from fer.engine.static_faces import StaticConfig, StaticFaceDetector

FPS = 10
SIDE = 64


def _texture(seed: int) -> np.ndarray:
    base = np.random.default_rng(seed).integers(40, 216, size=(8, 8)).astype(np.uint8)
    return cv2.resize(base, (SIDE, SIDE), interpolation=cv2.INTER_LINEAR)


def _noisy(image: np.ndarray, rng: np.random.Generator, offset: float = 0.0) -> np.ndarray:
    return np.clip(image + offset + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8)


def _grating(phase: float) -> np.ndarray:
    row = 128 + 80 * np.sin(np.arange(SIDE) / 4 + phase)
    return np.repeat(row[None, :], SIDE, axis=0).astype(np.uint8)


def _feed(detector: StaticFaceDetector, crop_at: Callable[[float], np.ndarray], seconds: float, track_id: int = 7):
    for i in range(round(seconds * FPS) + 1):
        time_s = i / FPS
        faces = Detections(xyxy=[[0, 0, SIDE, SIDE]], score=[0.9], track_id=[track_id])
        detector.update(faces, [crop_at(time_s)], time_s)


def _still(seed: int = 0) -> Callable[[float], np.ndarray]:
    rng, image = np.random.default_rng(seed), _texture(seed)
    return lambda _t: _noisy(image, rng)


def test_a_face_that_never_changes_is_static() -> None:
    detector = StaticFaceDetector()
    _feed(detector, _still(), seconds=4.0)
    assert detector.is_static(7)
    assert detector.static_ids() == {7}


def test_lighting_flicker_does_not_count_as_change() -> None:
    rng, image = np.random.default_rng(1), _texture(1)
    detector = StaticFaceDetector()
    _feed(detector, lambda t: _noisy(image, rng, offset=30 * np.sin(5 * t)), seconds=4.0)
    assert detector.is_static(7)


@pytest.mark.parametrize(
    "crop_at",
    [lambda t: _texture(int(t)), lambda t: _texture(int(t * FPS)), lambda t: _grating(3 * t)],
    ids=["new-texture-each-second", "new-texture-each-frame", "moving-grating"],
)
def test_a_changing_face_is_not_static(crop_at: Callable[[float], np.ndarray]) -> None:
    detector = StaticFaceDetector()
    _feed(detector, crop_at, seconds=5.0)
    assert not detector.is_static(7)
    assert detector.static_ids() == set()


@pytest.mark.parametrize(("seconds", "static"), [(1.0, False), (2.9, False), (3.0, True)])
def test_only_tracks_seen_for_min_seconds_are_judged(seconds: float, static: bool) -> None:
    detector = StaticFaceDetector(StaticConfig(min_seconds=3.0))
    _feed(detector, _still(), seconds=seconds)
    assert detector.is_static(7) is static


def test_tracks_are_judged_separately_and_unknown_ids_are_not_static() -> None:
    detector = StaticFaceDetector()
    still = _still()
    for i in range(41):
        time_s = i / FPS
        faces = Detections(xyxy=np.zeros((2, 4)), score=[0.9, 0.9], track_id=[1, 2])
        detector.update(faces, [still(time_s), _texture(100 + i)], time_s)
    assert detector.static_ids() == {1}
    assert not detector.is_static(99)


def test_crops_of_any_size_and_color_are_accepted() -> None:
    image = cv2.cvtColor(_texture(3), cv2.COLOR_GRAY2BGR)
    detector = StaticFaceDetector()
    _feed(detector, lambda t: cv2.resize(image, (40 + int(10 * t), 40 + int(10 * t))), seconds=4.0)
    assert detector.is_static(7)  # a poster seen while zooming in is the same picture


def test_reset_forgets_every_track() -> None:
    detector = StaticFaceDetector()
    _feed(detector, _still(), seconds=4.0)
    detector.reset()
    assert not detector.is_static(7) and detector.static_ids() == set()
