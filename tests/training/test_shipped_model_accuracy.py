"""The shipped model on real FER2013 test faces (skipped where the shared data is absent)."""

import numpy as np
import pytest

from fer.engine.classifier import EmotionClassifier
from fer.paths import KERAS_MODEL_PATH
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


@pytest.fixture(scope="module")
def sample_report(sample: FaceDataset) -> ClassificationReport:
    probabilities = EmotionClassifier().predict(sample.images)
    return classification_report(sample.labels, probabilities.argmax(axis=1))


@needs_fer2013
@pytest.mark.xfail(
    strict=True,
    reason="open target of issue 2: the shipped CPU-trained model scores 65.4% on this sample (64.8% on all of"
    " test/); strict, so this starts failing as a reminder once a model reaches 70%",
)
def test_shipped_model_scores_at_least_70_percent_on_a_fixed_test_sample(sample_report: ClassificationReport) -> None:
    assert sample_report.n == SAMPLE_SIZE
    assert sample_report.accuracy >= 0.70, sample_report.to_text()


@needs_fer2013
def test_shipped_model_does_not_fall_below_its_measured_accuracy(sample_report: ClassificationReport) -> None:
    """Guards the whole path (loading, preprocessing, class order): a slip there drops far below 60%."""
    assert sample_report.n == SAMPLE_SIZE
    assert sample_report.accuracy >= 0.60, sample_report.to_text()
    assert sample_report.per_class["happy"].recall >= 0.75  # the easiest class; near chance if columns shift


@needs_fer2013
def test_int8_model_agrees_with_the_keras_model_it_was_exported_from(sample: FaceDataset) -> None:
    """Quantisation may move a borderline face, not the model: measured 98.6 % agreement on all of test/."""
    shipped = EmotionClassifier().predict(sample.images).argmax(axis=1)
    source = load_classifier(KERAS_MODEL_PATH).predict(sample.images).argmax(axis=1)
    assert (shipped == source).mean() >= 0.95
