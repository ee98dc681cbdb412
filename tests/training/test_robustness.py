"""The robustness table (fer.training.robustness): fixed degradations, models side by side."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fer.paths import DEFAULT_MODEL_PATH
from fer.training.robustness import CONDITIONS, degraded, markdown_table, robustness
from tests.conftest import portrait
from tests.test_cli import run_fer


def _faces() -> np.ndarray:
    face = cv2.resize(cv2.cvtColor(portrait()[60:420, 130:400], cv2.COLOR_BGR2GRAY), (48, 48))
    return np.stack([face, face[:, ::-1]])


@pytest.mark.parametrize("condition", [c for c in CONDITIONS if c != "full resolution"])
def test_each_condition_changes_the_faces_the_same_way_every_time(condition: str) -> None:
    faces = _faces()
    once, again = degraded(faces, condition), degraded(faces, condition)
    assert once.shape == faces.shape and once.dtype == np.uint8
    assert (once != faces).any() and np.array_equal(once, again)


def test_darkened_is_darker_and_low_resolution_loses_detail() -> None:
    faces = _faces()
    assert degraded(faces, "darkened (gamma 2, half contrast)").mean() < faces.mean() - 20
    detail = [cv2.Laplacian(degraded(faces, c)[0], cv2.CV_32F).var() for c in ("full resolution", "recorded at 24 px")]
    assert detail[1] < 0.5 * detail[0]


def test_a_perfect_and_a_useless_model_side_by_side() -> None:
    faces = np.repeat(_faces(), 7, axis=0)
    labels = np.arange(14) % 7
    perfect = robustness(lambda x: np.eye(7)[labels[: len(x)]], faces, labels)
    useless = robustness(lambda x: np.tile(np.eye(7)[0], (len(x), 1)), faces, labels)
    assert all(report.accuracy == 1.0 for report in perfect.values())
    table = markdown_table({"perfect": perfect, "useless": useless}).splitlines()
    assert table[0] == "| condition | perfect accuracy | perfect macro-F1 | useless accuracy | useless macro-F1 |"
    assert len(table) == 2 + len(CONDITIONS) and table[2].startswith("| full resolution | 100.0% | 1.000 | 14.3% |")


def test_the_robustness_command_prints_the_table(image_tree: Path) -> None:
    result = run_fer("robustness", "--data", str(image_tree))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("| condition | shipped fast accuracy |")
    assert len(result.stdout.splitlines()) == 2 + len(CONDITIONS)
    both = run_fer("robustness", "--data", str(image_tree), "--profile", "accurate", "--model", str(DEFAULT_MODEL_PATH))
    assert both.returncode == 0, both.stderr
    assert both.stdout.splitlines()[0].startswith(f"| condition | {DEFAULT_MODEL_PATH.name} accuracy |")
