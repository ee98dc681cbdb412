"""Calibration of the classifier's probabilities: one temperature, and how far confidence is from accuracy.

``bench/readability.py`` fits the temperature on held-aside PublicTest faces and reports the
expected calibration error before and after; the engine applies it (``classifier.calibrated``).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import minimize_scalar

from fer.engine.classifier import calibrated

RELIABILITY_BINS = 15


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature (0.2 to 5) that minimises the negative log-likelihood of ``labels``."""

    def nll(temperature: float) -> float:
        scaled = calibrated(probabilities, temperature)
        return float(-np.log(np.maximum(scaled[np.arange(len(labels)), labels], 1e-12)).mean())

    return float(minimize_scalar(nll, bounds=(0.2, 5.0), method="bounded").x)


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = RELIABILITY_BINS) -> tuple[float, list]:
    """Expected calibration error and the reliability diagram: per confidence bin, mean confidence, accuracy,
    count."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    rows, error = [], 0.0
    for low, high in itertools.pairwise(np.linspace(0, 1, bins + 1)):
        members = (confidence > low) & (confidence <= high)
        if members.any():
            error += abs(correct[members].mean() - confidence[members].mean()) * members.mean()
            rows.append(
                {
                    "low": float(low),
                    "high": float(high),
                    "confidence": float(confidence[members].mean()),
                    "accuracy": float(correct[members].mean()),
                    "count": int(members.sum()),
                }
            )
    return float(error), rows
