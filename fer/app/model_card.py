"""Headline numbers of the shipped model, read from ``models/metrics.json``.

That file is written by ``python -m fer evaluate --out models`` on the test
split, so the app shows measured numbers rather than numbers typed by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fer.paths import METRICS_PATH


@dataclass(frozen=True)
class ModelSummary:
    n: int
    accuracy: float
    macro_f1: float


def shipped_model_summary(path: Path = METRICS_PATH) -> ModelSummary | None:
    try:
        metrics = json.loads(path.read_text())
        return ModelSummary(int(metrics["n"]), float(metrics["accuracy"]), float(metrics["macro_f1"]))
    except (OSError, ValueError, KeyError):
        return None
