"""Knowledge distillation (Hinton et al., 2015): a teacher's probabilities as training targets.

The teacher is one or more trained networks, each averaged over the face and its mirror image, then averaged
together. It reads every clean training face once, before training; each augmented copy of a face then learns the
teacher's answer for the clean face, blended with its label. This "offline" form costs one pass over the data
instead of a teacher call per batch, which on a 2-core CPU would nearly double an epoch. For a face degraded as
real footage degrades it, the clean face's answer is what the student should learn to give anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fer.labels import NUM_CLASSES
from fer.training.onnx_export import load_classifier


def teacher_probabilities(members: Sequence[Path], images: np.ndarray) -> np.ndarray:
    """(N, 7) mean over ``members`` (.onnx or .keras files) of their flip-averaged, uncalibrated probabilities."""
    if not members:
        raise ValueError("a teacher needs at least one model")
    total = np.zeros((len(images), NUM_CLASSES), np.float32)
    for member in members:
        total += load_classifier(member, flip_average=True, temperature=1.0).predict(images)
    return total / len(members)


def blended_targets(one_hot: np.ndarray, teacher: np.ndarray, teacher_weight: float) -> np.ndarray:
    """Each row: ``teacher_weight`` of the teacher's probabilities, the rest the label's one-hot vector."""
    if not 0.0 <= teacher_weight <= 1.0:
        raise ValueError(f"teacher_weight must be within [0, 1], got {teacher_weight}")
    return ((1.0 - teacher_weight) * one_hot + teacher_weight * teacher).astype(np.float32)
