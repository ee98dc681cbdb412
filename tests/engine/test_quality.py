"""Input monitoring (fer.engine.quality): the session's faces against the faces the model was validated on."""

import numpy as np

from fer.engine.quality import QualityMonitor, input_warnings
from fer.engine.readability import QUALITY_SIGNALS, ReadabilityConfig, reference_quality
from fer.labels import CLASSES

CONFIG = ReadabilityConfig.load()
REFERENCE = reference_quality()


def _signals(n: int, **values: float) -> np.ndarray:
    """Faces like the training data's (frontal, lit, sharp, 80 px) unless a signal is given."""
    base = {"face_px": 80.0, "yaw_deg": 0.0, "pitch_deg": 0.0, "brightness": 120.0, "contrast": 60.0, "sharpness": 0.8}
    base.update(values)
    return np.tile([base[name] for name in QUALITY_SIGNALS], (n, 1)).astype(np.float32)


def _shares(**shares: float) -> dict[str, float]:
    return {name: shares.get(name, 0.0) for name in CLASSES}


def test_faces_like_the_training_data_raise_no_warning() -> None:
    assert input_warnings(_signals(50), _shares(happy=0.4, neutral=0.6), REFERENCE, CONFIG) == []


def test_each_condition_outside_the_validated_range_is_explained_with_what_to_do() -> None:
    warnings = " ".join(input_warnings(_signals(50, face_px=13.0), None, REFERENCE, CONFIG))
    assert "13 px across" in warnings and f"{CONFIG.min_face_px:.0f} px" in warnings and "closer" in warnings
    warnings = " ".join(input_warnings(_signals(50, pitch_deg=CONFIG.max_pitch_deg + 10), None, REFERENCE, CONFIG))
    assert "looking down" in warnings
    warnings = " ".join(input_warnings(_signals(50, yaw_deg=CONFIG.max_abs_yaw_deg + 10), None, REFERENCE, CONFIG))
    assert "turned away" in warnings
    assert "blurred" in " ".join(input_warnings(_signals(50, sharpness=0.01), None, REFERENCE, CONFIG))
    assert "darker" in " ".join(input_warnings(_signals(50, brightness=20.0), None, REFERENCE, CONFIG))


def test_a_few_odd_faces_do_not_warn() -> None:
    signals = np.vstack([_signals(40), _signals(10, face_px=13.0)])
    assert input_warnings(signals, None, REFERENCE, CONFIG) == []


def test_a_session_read_as_mostly_sad_is_flagged_but_a_smiling_one_is_not() -> None:
    sad = " ".join(input_warnings(_signals(50), _shares(sad=0.93, neutral=0.07), REFERENCE, CONFIG))
    assert "Sad was read on 93%" in sad and "check the recording" in sad
    assert input_warnings(_signals(50), _shares(happy=0.85, neutral=0.15), REFERENCE, CONFIG) == []


def test_the_sample_stays_bounded_and_leaves_out_static_tracks() -> None:
    monitor = QualityMonitor(capacity=100)
    for step in range(50):
        monitor.add(_signals(3, face_px=40.0 + step), np.array([1, 2, 3]))
    assert monitor._signals.shape == (100, len(QUALITY_SIGNALS)) and monitor._seen == 150
    report = monitor.report(static={1, 2, 3}, class_shares=None)
    assert report["quality"]["face_px"]["session"] is None and report["input_warnings"] == []
    report = monitor.report(static=set(), class_shares=None)
    assert 40 <= report["quality"]["face_px"]["session"]["median"] <= 89
    assert report["quality"]["face_px"]["training"] == REFERENCE["face_px"]
