"""The one definition of how a face crop becomes model input.

Training, evaluation and the app all call :func:`prepare_faces`, so a crop
from a video frame is treated exactly like a FER2013 training image.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

INPUT_SIZE = 48
_MIN_STD = 1e-2  # keeps blank crops from being blown up into noise


def to_gray48(crop: np.ndarray) -> np.ndarray:
    """Any-size grayscale, BGR or BGRA crop -> 48x48 uint8 grayscale."""
    crop = np.asarray(crop)
    if crop.ndim == 3 and crop.shape[2] == 1:
        crop = crop[:, :, 0]
    elif crop.ndim == 3 and crop.shape[2] == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    elif crop.ndim == 3 and crop.shape[2] == 4:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGRA2GRAY)
    if crop.ndim != 2 or crop.shape[0] == 0 or crop.shape[1] == 0:
        raise ValueError(f"expected a non-empty 2-D grayscale or 3-channel crop, got shape {crop.shape}")
    if crop.dtype != np.uint8:
        crop = np.clip(crop, 0, 255).astype(np.uint8)
    if crop.shape == (INPUT_SIZE, INPUT_SIZE):
        return crop
    shrinking = crop.shape[0] > INPUT_SIZE or crop.shape[1] > INPUT_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation)


def standardize(images: np.ndarray) -> np.ndarray:
    """(N, 48, 48) uint8 -> (N, 48, 48, 1) float32, zero mean and unit std per image.

    Per-image standardisation makes a dim classroom crop and a bright
    studio crop look alike to the network.
    """
    x = images.astype(np.float32) / 255.0
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = np.maximum(x.std(axis=(1, 2), keepdims=True), _MIN_STD)
    return ((x - mean) / std)[..., np.newaxis]


def prepare_faces(crops: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
    """A batch of crops of any sizes -> the (N, 48, 48, 1) float32 tensor the model takes.

    ``crops`` is a list of crops, or an array whose first axis is the batch.
    """
    if isinstance(crops, np.ndarray):
        if crops.ndim not in (3, 4) or (crops.ndim == 3 and crops.shape[2] in (3, 4) and crops.shape[1] > 4):
            raise ValueError(f"an array of shape {crops.shape} is not a batch of crops; pass a single crop as [crop]")
        if crops.dtype == np.uint8 and crops.shape[1:3] == (INPUT_SIZE, INPUT_SIZE) and crops.ndim == 3:
            return standardize(crops)
    if len(crops) == 0:
        return standardize(np.empty((0, INPUT_SIZE, INPUT_SIZE), np.uint8))
    return standardize(np.stack([to_gray48(c) for c in crops]))
