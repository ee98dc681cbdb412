"""The command line, run as a user would: ``python -m fer ...`` in a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

from fer.labels import CLASSES
from tests.conftest import FER2013, needs_fer2013

ROOT = Path(__file__).resolve().parents[1]


def run_fer(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fer", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_help_lists_the_commands() -> None:
    result = run_fer("--help")
    assert result.returncode == 0
    for command in ("data-report", "train", "evaluate", "robustness", "export", "analyze"):
        assert command in result.stdout


def test_evaluate_json_contract_on_a_tiny_folder(image_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    result = run_fer("evaluate", "--data", str(image_tree), "--json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)  # exactly one JSON object, nothing else on stdout
    assert set(payload) == {"n", "accuracy", "macro_f1", "classes", "per_class", "confusion"}
    assert payload["n"] == 19
    assert payload["classes"] == list(CLASSES)
    confusion = np.array(payload["confusion"])
    assert confusion.shape == (7, 7) and confusion.sum() == 19
    # rows are true classes: only angry, happy and sad occur
    assert confusion.sum(axis=1).tolist() == [6, 0, 0, 6, 7, 0, 0]
    assert list(payload["per_class"]) == list(CLASSES)
    for name, row in payload["per_class"].items():
        assert set(row) == {"precision", "recall", "f1", "support"}, name
        assert all(0 <= row[k] <= 1 for k in ("precision", "recall", "f1"))
    assert [payload["per_class"][c]["support"] for c in CLASSES] == [6, 0, 0, 6, 7, 0, 0]
    assert 0 <= payload["macro_f1"] <= 1 and isinstance(payload["n"], int)
    assert payload["accuracy"] == np.trace(confusion) / 19
    assert (out / "confusion.png").is_file() and json.loads((out / "metrics.json").read_text()) == payload


def test_evaluate_on_a_folder_without_classes_exits_2(tmp_path: Path) -> None:
    result = run_fer("evaluate", "--data", str(tmp_path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "no class folders" in result.stderr and "Traceback" not in result.stderr


def test_distilling_without_a_teacher_exits_2_with_what_to_add(tmp_path: Path) -> None:
    result = run_fer("train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--recipe", "distill")
    assert result.returncode == 2
    assert "--teacher" in result.stderr and "Traceback" not in result.stderr


def test_data_report_finds_duplicates_and_blank_images(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for split in ("train", "test"):
        for name in ("happy", "fear"):
            (tmp_path / "data" / split / name).mkdir(parents=True)
    face = (rng.random((48, 48)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "data/train/happy/a.png"), face)
    cv2.imwrite(str(tmp_path / "data/train/fear/a_twin.png"), face)  # exact duplicate, other label
    cv2.imwrite(str(tmp_path / "data/test/happy/leak.png"), face)  # same image in the test split
    cv2.imwrite(str(tmp_path / "data/train/happy/blank.png"), np.full((48, 48), 90, np.uint8))
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"data/test/fear/{i}.png"), (rng.random((48, 48)) * 255).astype(np.uint8))
    result = run_fer("data-report", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "report" / "report.md").read_text()
    assert "Exact duplicates (pixel-identical to an earlier image of this split): **1** (1 of them" in report
    assert "Blank images (pixel std < 2.0): **1**" in report
    assert "`test` vs `train`: 1 images of `test` are pixel-identical to one in `train`" in report
    assert "| disgust | 0 | 0.0% | 0.00 | 0.00 |" in report  # class weights table, absent class
    for png in ("classes_train.png", "samples_train_happy.png", "samples_test_fear.png"):
        assert (tmp_path / "report" / png).is_file()


def test_data_report_rejects_a_folder_without_classes(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    result = run_fer("data-report", "--data", str(tmp_path), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "no class folders" in result.stderr


@needs_fer2013
def test_evaluate_on_part_of_the_real_test_split(tmp_path: Path) -> None:
    """Two real class folders only: the subset case on real data."""
    subset = tmp_path / "subset"
    for name in ("happy", "surprise"):
        (subset / name).mkdir(parents=True)
        for file in sorted((FER2013 / "test" / name).iterdir())[:40]:
            (subset / name / file.name).symlink_to(file)
    result = run_fer("evaluate", "--data", str(subset), "--json", "--out", str(tmp_path / "eval"))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["n"] == 80
    # happy and surprise are the model's easiest classes; a broken pipeline would be near chance
    assert payload["accuracy"] > 0.6


def test_data_report_reads_the_competition_csv(fer_csv: Path, tmp_path: Path) -> None:
    result = run_fer("data-report", "--data", str(fer_csv), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "report" / "report.md").read_text()
    assert "| Training | 10 |" in report and "| PublicTest | 4 |" in report
    assert "unparsable row (skipped): 1" in report  # the bad label in Training (the short row is its own split)
    assert "## Split `unlabelled`" in report


def test_evaluate_csv_usage_filter(fer_csv: Path, tmp_path: Path) -> None:
    result = run_fer("evaluate", "--data", str(fer_csv), "--usage", "PublicTest", "--json", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["n"] == 4


def test_export_writes_a_model_the_classifier_runs(image_tree: Path, tmp_path: Path) -> None:
    from fer.engine.classifier import EmotionClassifier

    target = tmp_path / "model.int8.onnx"
    result = run_fer("export", "--data", str(image_tree), "--out", str(target), "--samples", "10")
    assert result.returncode == 0, result.stderr
    assert "calibrated on 10 faces" in result.stdout
    probabilities = EmotionClassifier(target).predict([np.full((40, 40), 128, np.uint8)])
    assert probabilities.shape == (1, 7)
    np.testing.assert_allclose(probabilities.sum(), 1, atol=1e-5)


def test_export_without_a_model_exits_2(image_tree: Path, tmp_path: Path) -> None:
    result = run_fer("export", "--data", str(image_tree), "--model", str(tmp_path / "none.keras"))
    assert result.returncode == 2
    assert "model file not found" in result.stderr and "Traceback" not in result.stderr
