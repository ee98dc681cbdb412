"""Training-time augmentation for 48x48 faces.

Random affine jitter (rotation, scale, shift), horizontal flips,
brightness/contrast changes and random erasing: the variations a face crop
from a real camera shows, and the standard recipe for FER2013.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    max_rotation_deg: float = 15.0
    scale_range: tuple[float, float] = (0.85, 1.15)
    max_shift: float = 0.1  # fraction of the image side
    flip_probability: float = 0.5
    brightness: float = 0.25  # +- fraction of full range
    contrast: float = 0.3  # +- relative
    erase_probability: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.2)


def augment_batch(images: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """(B, H, W) uint8 -> augmented copy, same shape and dtype."""
    out = np.empty_like(images)
    for i, image in enumerate(images):
        out[i] = _augment_one(image, rng, config)
    return out


def _augment_one(image: np.ndarray, rng: np.random.Generator, c: AugmentConfig) -> np.ndarray:
    h, w = image.shape
    angle = rng.uniform(-c.max_rotation_deg, c.max_rotation_deg)
    scale = rng.uniform(*c.scale_range)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[:, 2] += rng.uniform(-c.max_shift, c.max_shift, size=2) * (w, h)
    x = cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    if rng.random() < c.flip_probability:
        x = x[:, ::-1]
    x = x.astype(np.float32)
    gain = 1.0 + rng.uniform(-c.contrast, c.contrast)
    x = (x - x.mean()) * gain + x.mean() + rng.uniform(-c.brightness, c.brightness) * 255
    if rng.random() < c.erase_probability:
        area = rng.uniform(*c.erase_area) * h * w
        aspect = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
        eh = int(min(h, round(np.sqrt(area * aspect))))
        ew = int(min(w, round(np.sqrt(area / aspect))))
        top = rng.integers(0, h - eh + 1)
        left = rng.integers(0, w - ew + 1)
        x[top : top + eh, left : left + ew] = rng.uniform(0, 255, size=(eh, ew))
    return np.clip(x, 0, 255).astype(np.uint8)
