"""Classification metrics over the seven classes, in plain NumPy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fer.labels import CLASSES, NUM_CLASSES


@dataclass
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class ClassificationReport:
    """Accuracy, macro-F1, per-class metrics and the confusion matrix (rows true, columns predicted)."""

    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion: np.ndarray
    classes: tuple[str, ...] = CLASSES

    def to_json(self) -> dict[str, object]:
        """The ``fer evaluate --json`` object (see README)."""
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "classes": list(self.classes),
            "per_class": {name: vars(m) for name, m in self.per_class.items()},
            "confusion": self.confusion.tolist(),
        }

    def to_text(self) -> str:
        lines = [
            f"images: {self.n}",
            f"accuracy: {self.accuracy:.4f}",
            f"macro-F1: {self.macro_f1:.4f}",
            "",
            f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
        ]
        for name, m in self.per_class.items():
            lines.append(f"{name:<10}{m.precision:>10.3f}{m.recall:>10.3f}{m.f1:>10.3f}{m.support:>10d}")
        lines += ["", "confusion (rows true, columns predicted): " + " ".join(self.classes)]
        lines += ["  " + " ".join(f"{v:5d}" for v in row) for row in self.confusion]
        return "\n".join(lines)


def classification_report(true: np.ndarray, predicted: np.ndarray) -> ClassificationReport:
    """Metrics for integer labels.

    Macro-F1 averages the classes that occur in ``true`` or ``predicted``
    (scikit-learn's convention): a class missing from a partial folder does
    not count as F1 = 0, but wrongly predicting it still costs.
    """
    true = np.asarray(true, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    if true.shape != predicted.shape:
        raise ValueError("true and predicted labels differ in length")
    confusion = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    np.add.at(confusion, (true, predicted), 1)
    per_class: dict[str, ClassMetrics] = {}
    f1_counted = []
    for i, name in enumerate(CLASSES):
        tp = confusion[i, i]
        predicted_i = confusion[:, i].sum()
        support = int(confusion[i].sum())
        precision = tp / predicted_i if predicted_i else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = ClassMetrics(float(precision), float(recall), float(f1), support)
        if support or predicted_i:
            f1_counted.append(f1)
    n = len(true)
    accuracy = float(np.trace(confusion) / n) if n else 0.0
    macro_f1 = float(np.mean(f1_counted)) if f1_counted else 0.0
    return ClassificationReport(n, accuracy, macro_f1, per_class, confusion)
