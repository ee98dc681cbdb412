"""The teacher's targets: flip-averaged, uncalibrated, averaged over its models; blended with the labels."""

import numpy as np
import pytest

from fer.engine.classifier import EmotionClassifier
from fer.paths import DEFAULT_MODEL_PATH
from fer.training.distill import blended_targets, teacher_probabilities
from tests.conftest import random_face


def test_the_teacher_is_the_mean_of_its_models_flip_averaged_raw_probabilities() -> None:
    rng = np.random.default_rng(0)
    faces = np.stack([random_face(rng) for _ in range(6)])
    one = teacher_probabilities([DEFAULT_MODEL_PATH], faces)
    raw = EmotionClassifier(DEFAULT_MODEL_PATH, flip_average=True, temperature=1.0).predict(faces)
    np.testing.assert_allclose(one, raw, atol=1e-6)
    np.testing.assert_allclose(one.sum(axis=1), 1.0, atol=1e-5)
    # a teacher of the same model twice answers as that model alone
    np.testing.assert_allclose(teacher_probabilities([DEFAULT_MODEL_PATH] * 2, faces), one, atol=1e-6)
    # and is blind to mirroring, so a flipped training face keeps its target
    np.testing.assert_allclose(teacher_probabilities([DEFAULT_MODEL_PATH], faces[:, :, ::-1]), one, atol=1e-5)
    with pytest.raises(ValueError, match="at least one"):
        teacher_probabilities([], faces)


def test_blended_targets_run_from_the_label_to_the_teacher() -> None:
    one_hot = np.eye(7, dtype=np.float32)[[3, 0]]
    teacher = np.full((2, 7), 1 / 7, np.float32)
    np.testing.assert_array_equal(blended_targets(one_hot, teacher, 0.0), one_hot)
    np.testing.assert_allclose(blended_targets(one_hot, teacher, 1.0), teacher)
    half = blended_targets(one_hot, teacher, 0.5)
    assert half[0, 3] == pytest.approx(0.5 + 0.5 / 7) and half.sum(axis=1) == pytest.approx([1.0, 1.0])
    with pytest.raises(ValueError, match="within"):
        blended_targets(one_hot, teacher, 1.5)
