"""Accuracy under what real footage does to a face: the model card's robustness table.

Each condition degrades every test face the same, fixed way (no randomness), so two models are compared on
exactly the same images: full resolution; recorded at 24 or 32 px and scaled up; blurred; JPEG quality 30;
darkened (gamma 2 and half the contrast, a dim room).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from fer.training.metrics import ClassificationReport, classification_report


def _rescaled(side: int) -> Callable[[np.ndarray], np.ndarray]:
    def degrade(face: np.ndarray) -> np.ndarray:
        small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, face.shape[::-1], interpolation=cv2.INTER_LINEAR)

    return degrade


def _blurred(face: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(face, (0, 0), 1.5)


def _jpeg_30(face: np.ndarray) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, 30])[1], cv2.IMREAD_GRAYSCALE)


def _darkened(face: np.ndarray) -> np.ndarray:
    dark = 255.0 * (face.astype(np.float32) / 255.0) ** 2.0
    return np.clip((dark - dark.mean()) * 0.5 + dark.mean(), 0, 255).astype(np.uint8)


CONDITIONS: dict[str, Callable[[np.ndarray], np.ndarray] | None] = {
    "full resolution": None,
    "recorded at 32 px": _rescaled(32),
    "recorded at 24 px": _rescaled(24),
    "blurred (sigma 1.5 px)": _blurred,
    "JPEG quality 30": _jpeg_30,
    "darkened (gamma 2, half contrast)": _darkened,
}


def degraded(images: np.ndarray, condition: str) -> np.ndarray:
    degrade = CONDITIONS[condition]
    return images if degrade is None else np.stack([degrade(face) for face in images])


def robustness(
    predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray, labels: np.ndarray
) -> dict[str, ClassificationReport]:
    """A classification report per condition for ``predict`` (faces -> probabilities)."""
    return {
        condition: classification_report(labels, predict(degraded(images, condition)).argmax(axis=1))
        for condition in CONDITIONS
    }


def markdown_table(results: dict[str, dict[str, ClassificationReport]]) -> str:
    """Models side by side: one row per condition, accuracy and macro-F1 per model."""
    names = list(results)
    header = "| condition | " + " | ".join(f"{name} accuracy | {name} macro-F1" for name in names) + " |"
    rule = "|---|" + "---|---|" * len(names)
    rows = [
        f"| {condition} | "
        + " | ".join(
            f"{results[name][condition].accuracy:.1%} | {results[name][condition].macro_f1:.3f}" for name in names
        )
        + " |"
        for condition in CONDITIONS
    ]
    return "\n".join([header, rule, *rows])
