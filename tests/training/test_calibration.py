"""Temperature scaling fitted on a fixture whose confidence is known to be wrong."""

import numpy as np
import pytest

from fer.engine.classifier import calibrated
from fer.training.calibration import fit_temperature, reliability


def _overconfident(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Softmax outputs whose top class is right 55 % of the time while claiming about 90 %."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 7, n)
    top = np.where(rng.random(n) < 0.55, labels, (labels + rng.integers(1, 7, n)) % 7)
    logits = rng.normal(0, 0.5, (n, 7))
    logits[np.arange(n), top] += 4.0
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probabilities.astype(np.float32), labels


def test_a_fitted_temperature_softens_overconfident_probabilities_and_cuts_the_calibration_error() -> None:
    probabilities, labels = _overconfident()
    before, _ = reliability(probabilities, labels)
    temperature = fit_temperature(probabilities, labels)
    after, diagram = reliability(calibrated(probabilities, temperature), labels)
    assert temperature > 1.5  # softer: the fixture claims far more than it gets right
    assert before > 0.25 and after < before / 5
    assert sum(row["count"] for row in diagram) == len(labels)


def test_calibrated_probabilities_are_left_alone() -> None:
    probabilities, labels = _overconfident()
    temperature = fit_temperature(probabilities, labels)
    again = fit_temperature(calibrated(probabilities, temperature), labels)
    assert again == pytest.approx(1.0, abs=0.05)
