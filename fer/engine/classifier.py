"""The inference API: one object, loaded once, from face crops to class probabilities.

``EmotionClassifier.predict(crops)`` takes grayscale (or BGR) face crops of
any sizes and returns an ``(N, 7)`` float32 array whose columns follow
``fer.labels.CLASSES`` (angry, disgust, fear, happy, sad, surprise, neutral)
and whose rows sum to 1. All resizing and normalisation happen inside, via
``fer.engine.preprocess`` — the same code training used.

The network always runs on onnxruntime: the shipped model is the int8 ONNX
export of ``models/fer_vgg.keras`` (``fer export``). A ``.keras`` file (a
training run's output) is served through ``fer.training.onnx_export.load_classifier``,
which translates it to float32 ONNX: Keras belongs to training, not to the engine.

Probabilities are calibrated: the network's are sharpened or softened by one
temperature fitted on held-aside PublicTest faces (``bench/readability.py``), so a
face read at 0.6 is right about 60 % of the time. The temperature is stored in
``models/calibration.json`` with the SHA-256 of the model it was fitted to and is
used only with that model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fer.engine.onnx_session import cpu_session
from fer.engine.preprocess import INPUT_SIZE, prepare_faces
from fer.hashing import sha256_hex
from fer.labels import CLASSES, NUM_CLASSES
from fer.paths import CALIBRATION_PATH, DEFAULT_MODEL_PATH

# Faces per network call: bounds memory when a whole data set is scored at once.
_CHUNK = 256
# Serving profiles, one API: "fast" runs the network once per face (live video); "accurate" averages it over the
# face and its mirror image (+1.2 points on PublicTest, half the faces per second), with its own temperature.
PROFILES = {"fast": False, "accurate": True}  # profile: flip averaging


class EmotionClassifier:
    """Expression classifier for face crops; construct once and reuse (it is not cheap to load)."""

    classes: tuple[str, ...] = CLASSES

    def __init__(
        self,
        model_path: str | Path | None = None,
        flip_average: bool = False,
        threads: int | None = None,
        *,
        onnx_model: bytes | None = None,
        temperature: float | None = None,
        profile: str | None = None,
    ) -> None:
        """``onnx_model``: the network as ONNX when ``model_path`` holds it in another format (a ``.keras`` file);
        ``temperature``: None takes the fitted one where ``models/calibration.json`` is for this model (and for
        flip averaging, if on), else 1; ``profile`` ("fast" or "accurate", see ``PROFILES``) sets ``flip_average``."""
        if profile is not None:
            if profile not in PROFILES:
                raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
            flip_average = PROFILES[profile]
        self.model_path = Path(model_path) if model_path else DEFAULT_MODEL_PATH
        if not self.model_path.is_file():
            raise FileNotFoundError(f"model file not found: {self.model_path}")
        if onnx_model is None and self.model_path.suffix == ".keras":
            raise ValueError(
                f"{self.model_path} is a Keras file: load it with fer.training.onnx_export.load_classifier"
            )
        raw = self.model_path.read_bytes()
        self._session = cpu_session(onnx_model or raw, threads)
        self._input_name = self._session.get_inputs()[0].name
        outputs = self._session.get_outputs()[0].shape[-1]
        if outputs != NUM_CLASSES:
            raise ValueError(f"{self.model_path} outputs {outputs} classes, expected {NUM_CLASSES}")
        self.flip_average = flip_average
        self.profile = "accurate" if flip_average else "fast"
        digest = sha256_hex(raw)
        self.version = f"{self.model_path.stem}-{digest[:12]}"
        self.temperature = fitted_temperature(digest, flip_average) if temperature is None else temperature
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")

    def warm_up(self) -> None:
        """Run the network once so the first real frame does not pay onnxruntime's first-call set-up."""
        self._run(np.zeros((1, INPUT_SIZE, INPUT_SIZE, 1), np.float32))

    def predict(self, crops: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        """Face crops (any size; grayscale, BGR or BGRA) -> (N, 7) probabilities in ``CLASSES`` order."""
        batch = prepare_faces(crops)
        if len(batch) == 0:
            return np.empty((0, NUM_CLASSES), np.float32)
        probabilities = self._run(batch)
        if self.flip_average:
            probabilities = (probabilities + self._run(batch[:, :, ::-1])) / 2
        return calibrated(probabilities, self.temperature)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        outputs = [
            self._session.run(None, {self._input_name: np.ascontiguousarray(batch[start : start + _CHUNK])})[0]
            for start in range(0, len(batch), _CHUNK)
        ]
        probabilities = np.concatenate(outputs).astype(np.float32)
        return probabilities / probabilities.sum(axis=1, keepdims=True)


def calibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling on probabilities: softmax(log p / T), rows summing to 1 (T = 1 changes nothing)."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.maximum(probabilities, 1e-12)) / temperature
    scaled = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def fitted_temperature(model_sha256: str, flip_average: bool = False, path: Path = CALIBRATION_PATH) -> float:
    """The temperature fitted to the model with this SHA-256 (to its flip-averaged probabilities with
    ``flip_average``), or 1.0 (uncalibrated) when there is none."""
    try:
        calibration = json.loads(path.read_text())
    except (OSError, ValueError):
        return 1.0
    if calibration.get("model_sha256") != model_sha256:
        return 1.0
    fitted = calibration.get("flip_average", {}).get("temperature") if flip_average else calibration["temperature"]
    return float(fitted) if fitted is not None else 1.0
