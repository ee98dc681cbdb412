"""The shipped model on real FER2013 test faces (skipped where the shared data is absent)."""

import numpy as np

from fer.classifier import EmotionClassifier
from fer.data import load_image_folder
from fer.metrics import classification_report
from tests.conftest import FER2013, needs_fer2013

SAMPLE_SIZE = 500
SAMPLE_SEED = 2026


@needs_fer2013
def test_shipped_model_scores_at_least_70_percent_on_a_fixed_test_sample() -> None:
    test = load_image_folder(FER2013 / "test")
    sample = np.sort(np.random.default_rng(SAMPLE_SEED).choice(len(test), SAMPLE_SIZE, replace=False))
    data = test.subset(sample)
    probabilities = EmotionClassifier().predict(data.images)
    report = classification_report(data.labels, probabilities.argmax(axis=1))
    assert report.n == SAMPLE_SIZE
    assert report.accuracy >= 0.70, report.to_text()
