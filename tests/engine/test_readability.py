"""Readability (fer.engine.readability): which faces are read, and why the others are not."""

from __future__ import annotations

import json
from dataclasses import replace

import cv2
import numpy as np
import pytest

from fer.engine.classifier import calibrated, fitted_temperature
from fer.engine.detections import Detections
from fer.engine.pipeline import AnalysisSettings, FrameAnalyzer
from fer.engine.readability import QUALITY_SIGNALS, ReadabilityConfig, ReadabilityFilter, pose_angles, roll_angles
from fer.labels import NUM_CLASSES
from fer.paths import CALIBRATION_PATH
from tests.conftest import portrait

CONFIG = ReadabilityConfig.load()
PORTRAIT_FACE_PX = 183  # CenterFace's box width on the full portrait
# Eyes, nose tip, mouth corners of a frontal face 100 px wide, as CenterFace places them.
FRONTAL = np.array([[30, 40], [70, 40], [50, 40 + 0.5627 * 40], [33, 80], [67, 80]], np.float32)


def _last_frame(analyzer: FrameAnalyzer, image: np.ndarray, frames: int = 4):
    """Process the same frame a few times (a track is confirmed on its second detection)."""
    for index in range(frames):
        result = analyzer.process(image, index * 0.1)
    return result


def _portrait_face(face_px: float) -> np.ndarray:
    """The portrait scaled so its face is about ``face_px`` wide, on a grey 320x240 canvas."""
    scale = face_px / PORTRAIT_FACE_PX
    small = cv2.resize(portrait(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full((max(240, small.shape[0] + 20), max(320, small.shape[1] + 20), 3), 90, np.uint8)
    canvas[10 : 10 + small.shape[0], 10 : 10 + small.shape[1]] = small
    return canvas


@pytest.fixture(scope="module")
def analyzer(classifier) -> FrameAnalyzer:
    return FrameAnalyzer(classifier, AnalysisSettings(detect_every=1))


@pytest.mark.parametrize(("face_px", "reason"), [(24, "small"), (60, ""), (120, "")])
def test_a_face_below_the_size_threshold_is_not_read(analyzer: FrameAnalyzer, face_px: int, reason: str) -> None:
    analyzer.reset()
    faces = _last_frame(analyzer, _portrait_face(face_px)).faces
    assert len(faces) == 1
    assert faces.unreadable_reasons == [reason]
    assert np.isnan(faces.probs).all() == bool(reason)  # a face not read carries no probabilities at all


def test_a_blurred_face_is_not_read_and_a_sharp_one_is(analyzer: FrameAnalyzer) -> None:
    analyzer.reset()
    sharp = _last_frame(analyzer, portrait())
    analyzer.reset()
    blurred = _last_frame(analyzer, cv2.GaussianBlur(portrait(), (0, 0), 8))
    sharpness = QUALITY_SIGNALS.index("sharpness")
    assert sharp.faces.unreadable_reasons == [""] and sharp.quality[0, sharpness] >= CONFIG.min_sharpness
    assert blurred.faces.unreadable_reasons == ["blur"] and blurred.quality[0, sharpness] < CONFIG.min_sharpness
    assert blurred.faces.labels == [""]


def test_the_portrait_reads_as_frontal(analyzer: FrameAnalyzer) -> None:
    analyzer.reset()
    quality = _last_frame(analyzer, portrait()).quality[0]
    assert abs(quality[QUALITY_SIGNALS.index("yaw_deg")]) < 10
    assert abs(quality[QUALITY_SIGNALS.index("pitch_deg")]) < 10


def test_pose_angles_follow_the_nose() -> None:
    turned, down, up = FRONTAL.copy(), FRONTAL.copy(), FRONTAL.copy()
    turned[2, 0] += 40  # nose tip well to the side: head turned
    down[2, 1] += 14  # nose tip near the mouth line: looking down
    up[2, 1] -= 14
    rolled = FRONTAL @ cv2.getRotationMatrix2D((50, 60), 30, 1.0)[:, :2].T  # a tilted head is still frontal
    yaw, pitch = pose_angles(np.stack([FRONTAL, turned, down, up, rolled]), 0.5627, 1.0341)
    assert abs(yaw[0]) < 1 and abs(pitch[0]) < 1 and abs(yaw[4]) < 1 and abs(pitch[4]) < 1
    assert yaw[1] > CONFIG.max_abs_yaw_deg
    assert pitch[2] > CONFIG.max_pitch_deg and pitch[3] < CONFIG.min_pitch_deg


def _assessed(landmarks: np.ndarray, track_ids: list[int], readability: ReadabilityFilter) -> Detections:
    n = len(track_ids)
    faces = Detections(np.tile([0, 0, 100, 100], (n, 1)), np.ones(n), track_ids, landmarks=landmarks)
    sharp_face = cv2.resize(cv2.cvtColor(portrait()[130:340, 170:360], cv2.COLOR_BGR2GRAY), (48, 48))
    readability.assess(faces, np.stack([sharp_face] * n), np.full(n, 100.0))
    return faces


def test_a_face_turned_away_is_not_read_and_keeps_its_pose_between_detections() -> None:
    readability = ReadabilityFilter(CONFIG)
    turned = FRONTAL.copy()
    turned[2, 0] += 40
    assert _assessed(np.stack([FRONTAL, turned]), [1, 2], readability).unreadable_reasons == ["", "pose"]
    # frames the tracker predicts have no landmarks: each track keeps its last measured pose
    unknown = np.full((2, 5, 2), np.nan, np.float32)
    assert _assessed(unknown, [1, 2], readability).unreadable_reasons == ["", "pose"]
    readability.reset()
    assert _assessed(unknown, [1, 2], readability).unreadable_reasons == ["", ""]  # no pose known: not judged


def _tilted(degrees: float) -> np.ndarray:
    return (FRONTAL @ cv2.getRotationMatrix2D((50, 60), degrees, 1.0)[:, :2].T).astype(np.float32)


def test_roll_is_the_eye_line_tilt_either_way() -> None:
    roll = roll_angles(np.stack([FRONTAL, _tilted(30), _tilted(-12)]))
    np.testing.assert_allclose(np.abs(roll), [0, 30, 12], atol=0.01)
    assert roll[1] * roll[2] < 0


def test_a_head_tilted_beyond_the_measured_roll_is_not_read_and_keeps_it_between_detections() -> None:
    """Accuracy falls past about 20 degrees of tilt (bench/readability.py rotates PublicTest faces)."""
    readability = ReadabilityFilter(CONFIG)
    slight, far = CONFIG.max_abs_roll_deg - 5, CONFIG.max_abs_roll_deg + 5
    faces = _assessed(np.stack([_tilted(slight), _tilted(-far)]), [1, 2], readability)
    assert faces.unreadable_reasons == ["", "pose"]
    unknown = np.full((2, 5, 2), np.nan, np.float32)
    assert _assessed(unknown, [1, 2], readability).unreadable_reasons == ["", "pose"]


def test_reasons_take_the_most_basic_first() -> None:
    """A face both tiny and turned away is 'small': more light or a turn would not make it readable."""
    readability = ReadabilityFilter(replace(CONFIG, min_face_px=200.0))
    turned = FRONTAL.copy()
    turned[2, 0] += 40
    assert _assessed(turned[None], [1], readability).unreadable_reasons == ["small"]


def test_low_top_probability_marks_a_readable_face_uncertain() -> None:
    readability = ReadabilityFilter(CONFIG)
    probs = np.full((3, NUM_CLASSES), 1 / NUM_CLASSES, np.float32)
    probs[1] = 0.0
    probs[1, 3] = 1.0
    faces = Detections(np.tile([0, 0, 100, 100], (3, 1)), np.ones(3), [1, 2, 3], probs, unreadable=[0, 0, 1])
    readability.mark_uncertain(faces)
    assert faces.unreadable_reasons == ["uncertain", "", "small"]  # a reason already given is kept


def test_unread_faces_stay_out_of_the_smoothing_state(classifier) -> None:
    """Smoothing must not carry a guess across frames where the face was not read."""
    analyzer = FrameAnalyzer(classifier, AnalysisSettings(detect_every=1), readability=replace(CONFIG))
    _last_frame(analyzer, cv2.GaussianBlur(portrait(), (0, 0), 8))
    assert analyzer.smoother._ema == {}  # the blurred face never entered it
    result = _last_frame(analyzer, portrait(), frames=1)
    assert result.faces.unreadable_reasons == [""] and list(analyzer.smoother._ema) == [1]


def test_calibration_keeps_the_ranking_and_changes_the_confidence() -> None:
    probs = np.array([[0.6, 0.3, 0.1, 0, 0, 0, 0], [0.2, 0.2, 0.6, 0, 0, 0, 0]], np.float32) + 1e-3
    probs /= probs.sum(axis=1, keepdims=True)
    np.testing.assert_array_equal(calibrated(probs, 1.0), probs)
    softer, sharper = calibrated(probs, 2.0), calibrated(probs, 0.5)
    np.testing.assert_array_equal(softer.argmax(axis=1), probs.argmax(axis=1))
    assert (softer.max(axis=1) < probs.max(axis=1)).all() and (sharper.max(axis=1) > probs.max(axis=1)).all()
    np.testing.assert_allclose(softer.sum(axis=1), 1.0, atol=1e-6)


def test_a_temperature_is_used_only_with_the_model_it_was_fitted_to(tmp_path) -> None:
    path = tmp_path / "calibration.json"
    path.write_text('{"model_sha256": "abc", "temperature": 1.7}')
    assert fitted_temperature("abc", path=path) == 1.7
    assert fitted_temperature("abc", flip_average=True, path=path) == 1.0  # none fitted to flip averaging here
    assert fitted_temperature("another model", path=path) == 1.0
    accurate = {"model_sha256": "ens", "temperature": 0.8}
    path.write_text(json.dumps({"model_sha256": "abc", "temperature": 1.7, "accurate": accurate}))
    assert fitted_temperature("ens", flip_average=True, path=path) == 0.8
    assert fitted_temperature("abc", flip_average=True, path=path) == 1.0  # fitted to another ensemble
    assert fitted_temperature("ens", path=path) == 1.0
    assert fitted_temperature("abc", path=tmp_path / "missing.json") == 1.0


def test_the_shipped_classifier_serves_calibrated_probabilities(classifier) -> None:
    assert classifier.temperature == pytest.approx(json.loads(CALIBRATION_PATH.read_text())["temperature"])
    raw = type(classifier)(temperature=1.0)
    crop = cv2.cvtColor(portrait()[130:340, 170:360], cv2.COLOR_BGR2GRAY)
    np.testing.assert_allclose(classifier.predict([crop]), calibrated(raw.predict([crop]), classifier.temperature))
