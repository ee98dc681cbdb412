import numpy as np
import pytest

from fer.labels import CLASSES
from fer.training.metrics import classification_report


def test_known_confusion() -> None:
    # 4 angry (3 right, 1 called happy), 2 happy (both right)
    true = np.array([0, 0, 0, 0, 3, 3])
    predicted = np.array([0, 0, 0, 3, 3, 3])
    report = classification_report(true, predicted)
    assert report.n == 6
    assert report.accuracy == pytest.approx(5 / 6)
    angry, happy = report.per_class["angry"], report.per_class["happy"]
    assert (angry.precision, angry.recall, angry.support) == (1.0, 0.75, 4)
    assert happy.precision == pytest.approx(2 / 3) and happy.recall == 1.0
    # macro-F1 over the two classes present, not all seven
    assert report.macro_f1 == pytest.approx((2 * 0.75 / 1.75 + 0.8) / 2)
    assert report.confusion[0, 3] == 1 and report.confusion.sum() == 6
    assert report.confusion.shape == (len(CLASSES), len(CLASSES))


def test_macro_f1_counts_classes_predicted_but_absent() -> None:
    # only happy in the data; one face wrongly called sad: sad's F1 of 0 is averaged in
    report = classification_report(np.array([3, 3, 3, 3]), np.array([3, 3, 3, 4]))
    assert report.per_class["happy"].f1 == pytest.approx(2 * 0.75 / 1.75)
    assert report.macro_f1 == pytest.approx((2 * 0.75 / 1.75 + 0.0) / 2)


def test_json_shape() -> None:
    result = classification_report(np.array([1, 2]), np.array([1, 1])).to_json()
    assert set(result) == {"n", "accuracy", "macro_f1", "classes", "per_class", "confusion"}
    assert result["classes"] == list(CLASSES)
    assert set(result["per_class"]["disgust"]) == {"precision", "recall", "f1", "support"}
