"""Fit the temperature of the "accurate" profile (an ensemble, flip-averaged) as bench/readability.py fits the fast one.

    .venv/bin/python bench/calibrate_accurate.py [--data ../shared/fer2013] [--write]

Averaged probabilities are flatter than a single pass's, so the fast profile's temperature would understate how
sure the accurate profile is. Fitted by negative log-likelihood on the even-indexed PublicTest faces, expected
calibration error (15 bins) before and after on the odd-indexed ones; ``--write`` adds it to
models/calibration.json as ``accurate`` (used only with the networks whose SHA-256 it names).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fer.engine.classifier import EmotionClassifier, calibrated
from fer.paths import CALIBRATION_PATH
from fer.training.calibration import fit_temperature, reliability
from fer.training.data import load_image_folder
from fer.training.metrics import classification_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/fer2013")
    parser.add_argument("--write", action="store_true", help="add the fit to models/calibration.json")
    args = parser.parse_args()
    test = load_image_folder(args.data / "test")
    raw = EmotionClassifier(profile="accurate", temperature=1.0)
    probabilities = raw.predict(test.images)
    fit, held_out = np.arange(len(test.labels)) % 2 == 0, np.arange(len(test.labels)) % 2 == 1
    temperature = fit_temperature(probabilities[fit], test.labels[fit])
    ece_before, _ = reliability(probabilities[held_out], test.labels[held_out])
    ece_after, _ = reliability(calibrated(probabilities[held_out], temperature), test.labels[held_out])
    report = classification_report(test.labels, probabilities.argmax(axis=1))
    fitted = {
        "models": list(raw.model_names),
        "model_sha256": raw.sha256,
        "temperature": round(temperature, 4),
        "ece_before": round(ece_before, 4),
        "ece_after": round(ece_after, 4),
        "publictest_accuracy": round(report.accuracy, 4),
        "publictest_macro_f1": round(report.macro_f1, 4),
    }
    print(json.dumps(fitted, indent=1))
    if args.write:
        calibration = json.loads(CALIBRATION_PATH.read_text())
        calibration["accurate"] = fitted
        CALIBRATION_PATH.write_text(json.dumps(calibration, indent=1) + "\n")


if __name__ == "__main__":
    main()
