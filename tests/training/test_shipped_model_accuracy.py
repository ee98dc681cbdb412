"""The shipped model on real FER2013 test faces (skipped where the shared data is absent)."""

from pathlib import Path

import numpy as np
import pytest

from fer.engine.classifier import EmotionClassifier
from fer.paths import DEFAULT_MODEL_PATH, FOOTAGE_KERAS_PATH, FOOTAGE_MODEL_PATH, KERAS_MODEL_PATH
from fer.training.data import FaceDataset, load_image_folder
from fer.training.metrics import ClassificationReport, classification_report
from fer.training.onnx_export import load_classifier
from tests.conftest import FER2013, needs_fer2013

SAMPLE_SIZE = 500
SAMPLE_SEED = 2026


@pytest.fixture(scope="module")
def sample() -> FaceDataset:
    test = load_image_folder(FER2013 / "test")
    return test.subset(np.sort(np.random.default_rng(SAMPLE_SEED).choice(len(test), SAMPLE_SIZE, replace=False)))


@pytest.fixture(scope="module", params=["fast", "accurate"])
def profile_report(request: pytest.FixtureRequest, sample: FaceDataset) -> tuple[str, ClassificationReport]:
    probabilities = EmotionClassifier(profile=request.param).predict(sample.images)
    return request.param, classification_report(sample.labels, probabilities.argmax(axis=1))


# Issue 15's targets per profile, and what the shipped profiles score on this sample.
TARGETS = {"fast": 0.68, "accurate": 0.70}
MEASURED = "fast 65.4 %, accurate 66.6 % on this sample (64.8 % and 66.4 % on all of test/)"


@needs_fer2013
@pytest.mark.xfail(
    strict=True,
    reason=f"open target of issue 15 (fast >= 68 %, accurate >= 70 %): {MEASURED}; strict, so this starts failing as a"
    " reminder once a profile reaches its target",
)
def test_each_shipped_profile_reaches_its_target_on_a_fixed_test_sample(
    profile_report: tuple[str, ClassificationReport],
) -> None:
    profile, report = profile_report
    assert report.n == SAMPLE_SIZE
    assert report.accuracy >= TARGETS[profile], report.to_text()


@needs_fer2013
def test_each_shipped_profile_does_not_fall_below_its_measured_accuracy(
    profile_report: tuple[str, ClassificationReport],
) -> None:
    """Guards the whole path (loading, preprocessing, class order): a slip there drops far below 60%."""
    _, report = profile_report
    assert report.n == SAMPLE_SIZE
    assert report.accuracy >= 0.60, report.to_text()
    assert report.per_class["happy"].recall >= 0.75  # the easiest class; near chance if columns shift


@needs_fer2013
@pytest.mark.parametrize(
    ("shipped_path", "keras_path"),
    [(DEFAULT_MODEL_PATH, KERAS_MODEL_PATH), (FOOTAGE_MODEL_PATH, FOOTAGE_KERAS_PATH)],
)
def test_each_int8_model_agrees_with_the_keras_model_it_was_exported_from(
    sample: FaceDataset, shipped_path: Path, keras_path: Path
) -> None:
    """Quantisation may move a borderline face, not the model: measured 98.6 % agreement on all of test/."""
    shipped = EmotionClassifier(shipped_path).predict(sample.images).argmax(axis=1)
    source = load_classifier(keras_path).predict(sample.images).argmax(axis=1)
    assert (shipped == source).mean() >= 0.95
