"""The inference API contract, on the shipped model."""

import numpy as np
import pytest

from fer.engine.classifier import EmotionClassifier
from fer.labels import CLASSES
from fer.paths import ACCURATE_MODEL_PATHS, DEFAULT_MODEL_PATH, KERAS_MODEL_PATH


@pytest.fixture(scope="module")
def classifier() -> EmotionClassifier:
    return EmotionClassifier()


def test_shipped_model_exists_and_is_small() -> None:
    for path in (KERAS_MODEL_PATH, DEFAULT_MODEL_PATH, *ACCURATE_MODEL_PATHS):
        assert path.is_file()
        assert path.stat().st_size <= 10 * 1024 * 1024


def test_class_order_is_fixed(classifier: EmotionClassifier) -> None:
    assert classifier.classes == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert classifier.classes == CLASSES


def test_any_sizes_give_n_by_7_probabilities(classifier: EmotionClassifier) -> None:
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, size=s, dtype=np.uint8) for s in [(48, 48), (17, 23), (240, 180), (64, 64, 3)]]
    p = classifier.predict(crops)
    assert p.shape == (4, 7) and p.dtype == np.float32
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1, atol=1e-5)


def test_batching_does_not_change_results(classifier: EmotionClassifier) -> None:
    """Chunking (256 faces a call) must give each face the same answer as alone."""
    rng = np.random.default_rng(1)
    crops = rng.integers(0, 256, size=(300, 48, 48), dtype=np.uint8)
    together = classifier.predict(crops)
    assert together.shape == (300, 7)
    for i in (0, 33, 255, 256, 299):
        np.testing.assert_allclose(classifier.predict(crops[i : i + 1])[0], together[i], atol=1e-5)


def test_empty_batch(classifier: EmotionClassifier) -> None:
    assert classifier.predict([]).shape == (0, 7)


def test_flip_average_is_the_mean_of_both_views() -> None:
    plain = EmotionClassifier(temperature=1.0)  # before calibration, which each profile fits on its own
    flipping = EmotionClassifier(flip_average=True, temperature=1.0)
    crop = np.random.default_rng(2).integers(0, 256, size=(48, 48), dtype=np.uint8)
    expected = (plain.predict([crop]) + plain.predict([crop[:, ::-1]])) / 2
    np.testing.assert_allclose(flipping.predict([crop]), expected, atol=1e-5)
    np.testing.assert_allclose(flipping.predict([crop]), flipping.predict([crop[:, ::-1]]), atol=1e-5)


def test_missing_model_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="model file not found"):
        EmotionClassifier(tmp_path / "nope.keras")


def test_version_names_the_file_and_its_content(classifier: EmotionClassifier) -> None:
    assert classifier.version.startswith(DEFAULT_MODEL_PATH.stem + "-")
    assert len(classifier.version.rsplit("-", 1)[1]) == 12


def test_a_keras_file_is_refused_with_where_to_load_it() -> None:
    """The engine serves ONNX only; Keras files go through the training layer's translation."""
    with pytest.raises(ValueError, match="load_classifier"):
        EmotionClassifier(KERAS_MODEL_PATH)


def test_the_two_serving_profiles_are_one_api_each_with_its_own_calibration(classifier: EmotionClassifier) -> None:
    import json

    from fer.paths import CALIBRATION_PATH

    fitted = json.loads(CALIBRATION_PATH.read_text())
    accurate = EmotionClassifier(profile="accurate")
    assert (classifier.profile, accurate.profile, accurate.flip_average) == ("fast", "accurate", True)
    assert classifier.temperature == fitted["temperature"]
    assert accurate.temperature == fitted["accurate"]["temperature"]
    faces = np.random.default_rng(3).integers(0, 256, size=(5, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(accurate.predict(faces).sum(axis=1), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="profile must be one of"):
        EmotionClassifier(profile="fastest")


def test_an_analysis_refuses_a_classifier_of_another_profile(classifier: EmotionClassifier) -> None:
    from fer.engine.pipeline import AnalysisSettings, FrameAnalyzer

    with pytest.raises(ValueError, match="the settings ask for another"):
        FrameAnalyzer(classifier, AnalysisSettings(profile="accurate"))
    with pytest.raises(ValueError, match="profile must be one of"):
        AnalysisSettings(profile="best")


def test_an_ensemble_averages_its_networks_each_over_the_face_and_its_mirror(monkeypatch, tmp_path) -> None:
    import shutil

    from fer.engine import classifier as module

    twin = tmp_path / "twin.int8.onnx"
    shutil.copy(DEFAULT_MODEL_PATH, twin)
    faces = np.random.default_rng(5).integers(0, 256, size=(6, 48, 48), dtype=np.uint8)
    single = EmotionClassifier(flip_average=True, temperature=1.0).predict(faces)
    other = EmotionClassifier(twin, flip_average=True, temperature=1.0)
    monkeypatch.setitem(module.PROFILES, "accurate", module.Profile((DEFAULT_MODEL_PATH, twin), flip_average=True))
    ensemble = EmotionClassifier(profile="accurate", temperature=1.0)
    np.testing.assert_allclose(ensemble.predict(faces), (single + other.predict(faces)) / 2, atol=1e-6)
    assert ensemble.model_names == (DEFAULT_MODEL_PATH.name, twin.name)
    assert ensemble.version.startswith("fer_vgg.int8+twin.int8-")
    assert ensemble.sha256 == module.ensemble_sha256([other.sha256, other.sha256])  # the same bytes twice
    assert ensemble.sha256 != other.sha256  # so the single network's temperature is not taken for the ensemble
    # a given file replaces the profile's networks; the profile still sets the flip averaging
    alone = EmotionClassifier(twin, profile="accurate", temperature=1.0)
    assert alone.model_names == (twin.name,) and alone.flip_average
