"""Evaluation: ``python -m fer evaluate`` — the shipped (or a given) model on a labelled data set."""

from __future__ import annotations

import json
from pathlib import Path

from fer.training.data import DataError, load_dataset
from fer.training.metrics import ClassificationReport, classification_report
from fer.training.onnx_export import load_classifier
from fer.training.plots import plot_confusion


def evaluate_folder(
    data: Path,
    model_path: Path | None = None,
    flip: bool = False,
    out: Path | None = None,
    usage: str | None = None,
    profile: str | None = None,
) -> ClassificationReport:
    """Score a model (or a serving ``profile``, see ``EmotionClassifier``) on a class-folder tree (any subset of
    classes) or a FER2013 CSV."""
    dataset = load_dataset(data, usage)
    if len(dataset) == 0:
        raise DataError(f"no readable images found in {data}" + (f" with Usage {usage}" if usage else ""))
    classifier = load_classifier(model_path, flip_average=flip, profile=profile)
    probabilities = classifier.predict(dataset.images)
    report = classification_report(dataset.labels, probabilities.argmax(axis=1))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
        plot_confusion(report.confusion, report.classes, out / "confusion.png")
    return report
