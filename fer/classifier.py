"""The inference API: one object, loaded once, from face crops to class probabilities.

``EmotionClassifier.predict(crops)`` takes grayscale (or BGR) face crops of
any sizes and returns an ``(N, 7)`` float32 array whose columns follow
``fer.labels.CLASSES`` (angry, disgust, fear, happy, sad, surprise, neutral)
and whose rows sum to 1. All resizing and normalisation happen inside, via
``fer.preprocess`` — the same code training used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fer.backend import keras
from fer.labels import CLASSES, NUM_CLASSES
from fer.paths import DEFAULT_MODEL_PATH
from fer.preprocess import INPUT_SIZE, prepare_faces

# Batches are padded up to one of these sizes: JAX compiles once per input
# shape, so a video whose face count changes every frame would otherwise
# recompile over and over.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)


class EmotionClassifier:
    """Expression classifier for face crops; construct once and reuse (it is not cheap to load)."""

    classes: tuple[str, ...] = CLASSES

    def __init__(self, model_path: str | Path | None = None, flip_average: bool = False) -> None:
        self.model_path = Path(model_path) if model_path else DEFAULT_MODEL_PATH
        if not self.model_path.is_file():
            raise FileNotFoundError(f"model file not found: {self.model_path}")
        self.model = keras.models.load_model(self.model_path, compile=False)
        if self.model.output_shape[-1] != NUM_CLASSES:
            raise ValueError(f"{self.model_path} outputs {self.model.output_shape[-1]} classes, expected 7")
        self.flip_average = flip_average
        self.version = f"{self.model_path.stem}-{_file_digest(self.model_path)}"
        self._warm = False

    def warm_up(self) -> None:
        """Compile every batch bucket now (about 0.5 s each) instead of mid-video at the first frame with N faces."""
        if not self._warm:
            for size in BATCH_BUCKETS:
                self._run(np.zeros((size, INPUT_SIZE, INPUT_SIZE, 1), np.float32))
            self._warm = True

    def predict(self, crops: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """Face crops (any size; grayscale, BGR or BGRA) -> (N, 7) probabilities in ``CLASSES`` order."""
        batch = prepare_faces(crops)
        if len(batch) == 0:
            return np.empty((0, NUM_CLASSES), np.float32)
        probabilities = self._run(batch)
        if self.flip_average:
            probabilities = (probabilities + self._run(batch[:, :, ::-1])) / 2
        return probabilities

    def _run(self, batch: np.ndarray) -> np.ndarray:
        largest = BATCH_BUCKETS[-1]
        outputs = []
        for start in range(0, len(batch), largest):
            chunk = batch[start : start + largest]
            size = next(b for b in BATCH_BUCKETS if b >= len(chunk))
            padded = np.zeros((size, *chunk.shape[1:]), np.float32)
            padded[: len(chunk)] = chunk
            outputs.append(np.asarray(self.model.predict_on_batch(padded))[: len(chunk)])
        probabilities = np.concatenate(outputs).astype(np.float32)
        return probabilities / probabilities.sum(axis=1, keepdims=True)


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
