"""Training-time augmentation for 48x48 faces.

Random affine jitter (rotation, scale, shift), horizontal flips,
brightness/contrast changes and random erasing: the variations a face crop
from a real camera shows, and the standard recipe for FER2013. With
``footage_probability`` a face first gets what classroom video does to it:
recorded at 20-60 px and scaled up, blurred, compressed (JPEG), darkened or
brightened (gamma) and noisy.
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
    footage_probability: float = 0.0  # share of faces degraded as real footage degrades them (recipe v2: 0.5)
    footage_side: tuple[int, int] = (20, 60)  # the face's side in the recording, px
    blur_sigma: tuple[float, float] = (0.0, 1.2)
    jpeg_quality: tuple[int, int] = (30, 90)
    gamma: tuple[float, float] = (0.6, 1.6)
    noise_std: tuple[float, float] = (0.0, 8.0)


def augment_batch(images: np.ndarray, rng: np.random.Generator, config: AugmentConfig) -> np.ndarray:
    """(B, H, W) uint8 -> augmented copy, same shape and dtype."""
    out = np.empty_like(images)
    for i, image in enumerate(images):
        out[i] = _augment_one(image, rng, config)
    return out


def degrade_like_footage(image: np.ndarray, rng: np.random.Generator, c: AugmentConfig) -> np.ndarray:
    """One face as a classroom recording shows it: smaller then scaled up, blurred, compressed, gamma, noise."""
    h, w = image.shape
    side = int(rng.integers(c.footage_side[0], c.footage_side[1] + 1))
    if side < w:
        small = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
        image = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    sigma = rng.uniform(*c.blur_sigma)
    if sigma > 0.1:
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    quality = int(rng.integers(c.jpeg_quality[0], c.jpeg_quality[1] + 1))
    encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])[1]
    image = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    x = 255.0 * (image.astype(np.float32) / 255.0) ** rng.uniform(*c.gamma)
    x += rng.normal(0.0, rng.uniform(*c.noise_std), size=x.shape)
    return np.clip(x, 0, 255).astype(np.uint8)


def _augment_one(image: np.ndarray, rng: np.random.Generator, c: AugmentConfig) -> np.ndarray:
    if c.footage_probability and rng.random() < c.footage_probability:
        image = degrade_like_footage(image, rng, c)
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
