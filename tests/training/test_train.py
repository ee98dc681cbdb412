"""Training end to end on a tiny generated data set, with a tiny network."""

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer.hashing import file_sha256
from fer.training.augment import AugmentConfig, augment_batch
from fer.training.backend import keras
from fer.training.data import class_weights
from fer.training.model import ModelConfig, build_model
from fer.training.train import InitError, TrainConfig, read_history, train
from tests.conftest import random_face

TINY = TrainConfig(epochs=1, batch_size=8, warmup_epochs=0, model=ModelConfig(widths=(4, 8), convs_per_stage=(1, 1)))


def make_split(root: Path, per_class: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for name in ("angry", "happy", "neutral"):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            cv2.imwrite(str(root / name / f"{i}.png"), random_face(rng))


def test_train_then_resume(tmp_path: Path) -> None:
    make_split(tmp_path / "data" / "train", 8, 0)
    make_split(tmp_path / "data" / "test", 3, 1)
    out = tmp_path / "run"
    model_path = train(tmp_path / "data", out, TINY, verbose=False)
    assert model_path == out / "model.keras" and model_path.is_file()
    assert model_path.stat().st_size < (out / "best.keras").stat().st_size  # shipped without optimizer state
    for name in ("last.keras", "best.keras", "history.csv", "curves.png", "config.json"):
        assert (out / name).is_file(), name
    assert [row["epoch"] for row in read_history(out / "history.csv")] == [1]
    steps_before = int(keras.models.load_model(out / "last.keras").optimizer.iterations)
    assert steps_before == 3  # 24 images / batch 8

    train(tmp_path / "data", out, replace(TINY, epochs=2), resume=True, verbose=False)
    assert [row["epoch"] for row in read_history(out / "history.csv")] == [1, 2]
    resumed = keras.models.load_model(out / "last.keras")
    assert int(resumed.optimizer.iterations) == 6  # continued, not restarted
    assert resumed.predict(np.zeros((1, 48, 48, 1), np.float32), verbose=False).shape == (1, 7)


def test_class_weights_favour_rare_classes() -> None:
    labels = np.array([0] * 90 + [1] * 10)
    weights = class_weights(labels, power=1.0)
    assert weights[1] / weights[0] == 9
    assert weights[labels].mean() == 1.0
    assert (class_weights(labels, power=0.0)[:2] == 1).all()


def test_augmentation_keeps_shape_and_changes_pixels() -> None:
    rng = np.random.default_rng(0)
    images = np.stack([random_face(rng) for _ in range(16)])
    out = augment_batch(images, np.random.default_rng(1), AugmentConfig())
    assert out.shape == images.shape and out.dtype == np.uint8
    assert (out != images).any(axis=(1, 2)).all()
    again = augment_batch(images, np.random.default_rng(1), AugmentConfig())
    np.testing.assert_array_equal(out, again)


def test_model_shape() -> None:
    model = build_model(ModelConfig())
    assert model.input_shape == (None, 48, 48, 1)
    assert model.output_shape == (None, 7)


def test_resume_trusts_the_checkpoint_over_the_history(tmp_path: Path) -> None:
    """A run killed after saving last.keras but before writing history.csv must not repeat the epoch."""
    make_split(tmp_path / "data" / "train", 8, 0)
    make_split(tmp_path / "data" / "test", 3, 1)
    out = tmp_path / "run"
    train(tmp_path / "data", out, TINY, verbose=False)
    (out / "history.csv").unlink()
    train(tmp_path / "data", out, replace(TINY, epochs=2), resume=True, verbose=False)
    assert int(keras.models.load_model(out / "last.keras").optimizer.iterations) == 6
    assert [row["epoch"] for row in read_history(out / "history.csv")] == [2]


def test_config_and_data_counts_are_recorded(tmp_path: Path) -> None:
    make_split(tmp_path / "data" / "train", 4, 0)
    make_split(tmp_path / "data" / "test", 2, 1)
    train(tmp_path / "data", tmp_path / "run", TINY, verbose=False)
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert record["train"]["epochs"] == 1 and record["train"]["model"]["widths"] == [4, 8]
    assert record["data"]["train_counts"]["happy"] == 4 and record["data"]["validation_counts"]["angry"] == 2
    assert record["classes"][0] == "angry"


def test_init_starts_from_a_trained_model_with_a_new_schedule(tmp_path: Path) -> None:
    make_split(tmp_path / "data" / "train", 8, 0)
    make_split(tmp_path / "data" / "test", 3, 1)
    first = train(tmp_path / "data", tmp_path / "first", TINY, verbose=False)
    seeded = tmp_path / "seeded"
    train(tmp_path / "data", seeded, replace(TINY, peak_learning_rate=0.0), init=first, verbose=False)
    # a zero learning rate leaves the trained weights exactly where --init put them
    # (batch-norm statistics still follow the data, so only trainable weights are compared)
    for got, expected in zip(
        keras.models.load_model(seeded / "last.keras").trainable_weights,
        keras.models.load_model(first).trainable_weights,
        strict=True,
    ):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))
    assert int(keras.models.load_model(seeded / "last.keras").optimizer.iterations) == 3  # a fresh optimizer
    record = json.loads((seeded / "config.json").read_text())
    assert record["initialised_from"]["path"] == str(first) and len(record["initialised_from"]["sha256"]) == 64

    train(tmp_path / "data", seeded, replace(TINY, epochs=2), resume=True, init=None, verbose=False)
    assert json.loads((seeded / "config.json").read_text())["initialised_from"] == record["initialised_from"]


def test_init_from_another_architecture_is_refused(tmp_path: Path) -> None:
    make_split(tmp_path / "data" / "train", 4, 0)
    make_split(tmp_path / "data" / "test", 2, 1)
    other = tmp_path / "other.keras"
    build_model(ModelConfig(widths=(6, 8), convs_per_stage=(1, 1))).save(other)
    with pytest.raises(InitError, match="do not match"):
        train(tmp_path / "data", tmp_path / "run", TINY, init=other, verbose=False)


def test_footage_degradation_loses_detail_like_a_small_blurred_compressed_face() -> None:
    """A face recorded at 20 px and scaled up keeps its coarse shape but loses the fine detail (high frequencies)."""
    from fer.engine.preprocess import INPUT_SIZE
    from fer.training.augment import degrade_like_footage
    from tests.conftest import portrait

    face = cv2.resize(cv2.cvtColor(portrait()[60:420, 130:400], cv2.COLOR_BGR2GRAY), (INPUT_SIZE, INPUT_SIZE))
    config = AugmentConfig(footage_side=(20, 20), blur_sigma=(0.0, 0.0), jpeg_quality=(95, 95), gamma=(1, 1))
    config = replace(config, noise_std=(0.0, 0.0))
    degraded = degrade_like_footage(face, np.random.default_rng(0), config)
    assert degraded.shape == face.shape and degraded.dtype == np.uint8

    def detail(image: np.ndarray) -> float:
        return float(cv2.Laplacian(image.astype(np.float32), cv2.CV_32F).var())

    assert detail(degraded) < 0.5 * detail(face)
    assert np.corrcoef(face.ravel(), degraded.ravel())[0, 1] > 0.8  # still the same face
    dark = degrade_like_footage(face, np.random.default_rng(0), replace(config, gamma=(1.6, 1.6)))
    assert dark.mean() < degraded.mean() - 10


def test_footage_degradation_is_used_only_at_its_probability() -> None:
    rng = np.random.default_rng(0)
    images = np.stack([random_face(rng) for _ in range(8)])
    plain = AugmentConfig(erase_probability=0.0)
    with_footage = replace(plain, footage_probability=1.0, footage_side=(20, 20))
    a = augment_batch(images, np.random.default_rng(3), plain)
    b = augment_batch(images, np.random.default_rng(3), with_footage)
    assert (a != b).any()
    assert augment_batch(images, np.random.default_rng(3), replace(plain, footage_probability=0.0)).tobytes() == (
        a.tobytes()
    )


def test_mixup_blends_images_targets_and_weights_with_the_same_lambda() -> None:
    from fer.training.train import mixup

    rng = np.random.default_rng(0)
    images = rng.normal(size=(32, 48, 48, 1)).astype(np.float32)
    targets = keras.utils.to_categorical(rng.integers(0, 7, 32), 7)
    weights = rng.uniform(0.5, 3.0, 32).astype(np.float32)
    mixed_images, mixed_targets, mixed_weights = mixup(images, targets, weights, np.random.default_rng(1), 0.4)
    np.testing.assert_allclose(mixed_targets.sum(axis=1), 1.0, atol=1e-6)
    assert (mixed_targets.max(axis=1) >= 0.5 - 1e-6).all()  # each sample stays mostly itself
    lam = mixed_targets[np.arange(32), targets.argmax(axis=1)]
    partner = np.random.default_rng(1).permutation(32)
    for i in range(32):
        if targets[i].argmax() != targets[partner[i]].argmax():
            expected = lam[i] * images[i] + (1 - lam[i]) * images[partner[i]]
            np.testing.assert_allclose(mixed_images[i], expected, atol=1e-5)
            assert mixed_weights[i] == pytest.approx(lam[i] * weights[i] + (1 - lam[i]) * weights[partner[i]])


def test_recipe_v2_trains_with_mixup_and_footage(tmp_path: Path) -> None:
    from fer.training.train import RECIPES

    make_split(tmp_path / "data" / "train", 8, 0)
    make_split(tmp_path / "data" / "test", 3, 1)
    config = replace(RECIPES["v2"], epochs=1, batch_size=8, warmup_epochs=0, model=TINY.model, mixup_probability=1.0)
    train(tmp_path / "data", tmp_path / "run", config, verbose=False)
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["train"]
    assert recorded["mixup_alpha"] == 0.4 and recorded["augment"]["footage_probability"] == 0.5


def test_distillation_blends_the_teachers_answer_for_each_face_into_its_target(tmp_path: Path) -> None:
    from fer.training.data import load_dataset
    from fer.training.train import AugmentedBatches

    make_split(tmp_path / "train", 8, 0)
    data = load_dataset(tmp_path / "train")
    rng = np.random.default_rng(3)
    teacher = rng.dirichlet(np.ones(7), size=len(data)).astype(np.float32)  # a different answer for every face
    config = replace(TINY, teacher=("teacher.onnx",), teacher_weight=0.7)
    expected = 0.3 * keras.utils.to_categorical(data.labels, 7) + 0.7 * teacher
    seen = []
    for _, targets, _ in AugmentedBatches(data, config, teacher).epoch(0):
        for row in targets:
            matches = np.flatnonzero(np.abs(expected - row).max(axis=1) < 1e-6)
            assert len(matches) == 1  # each target is exactly one face's blend of label and teacher
            seen.append(int(matches[0]))
    assert sorted(seen) == list(range(len(data)))


def test_recipe_distill_learns_from_a_teacher_and_records_which(tmp_path: Path) -> None:
    from fer.training.train import RECIPES

    make_split(tmp_path / "data" / "train", 8, 0)
    make_split(tmp_path / "data" / "test", 3, 1)
    teacher = train(tmp_path / "data", tmp_path / "teacher", TINY, verbose=False)
    config = replace(RECIPES["distill"], epochs=1, batch_size=8, warmup_epochs=0, model=TINY.model)
    with pytest.raises(ValueError, match="--teacher"):
        train(tmp_path / "data", tmp_path / "student", config, verbose=False)
    student = replace(config, teacher=(str(teacher),))
    train(tmp_path / "data", tmp_path / "student", student, init=teacher, verbose=False)
    record = json.loads((tmp_path / "student" / "config.json").read_text())
    assert record["train"]["teacher_weight"] == 0.7 and record["train"]["label_smoothing"] == 0.0
    assert record["teacher"] == [{"path": str(teacher), "sha256": file_sha256(teacher)}]
