"""Headline numbers of the shipped serving profiles, read from ``models/metrics*.json``.

Those files are written by ``python -m fer evaluate [--profile accurate]`` on the
test split, so the app shows measured numbers rather than numbers typed by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from fer.paths import ACCURATE_METRICS_PATH, METRICS_PATH

# Each serving profile: what it is used for, and its measured metrics.
PROFILE_METRICS = {
    "fast": ("Live video (fast profile)", METRICS_PATH),
    "accurate": ("Recordings (accurate profile)", ACCURATE_METRICS_PATH),
}


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
