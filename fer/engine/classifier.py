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

Two serving profiles (``PROFILES``): "fast" runs one network once per face; "accurate"
averages an ensemble of networks, each over the face and its mirror image.

Probabilities are calibrated: the networks' are sharpened or softened by one
temperature per profile fitted on held-aside PublicTest faces (``bench/readability.py``,
``bench/calibrate_accurate.py``), so a face read at 0.6 is right about 60 % of the
time. The temperatures are stored in ``models/calibration.json`` with the SHA-256 of
the networks they were fitted to and are used only with those.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from fer.engine.onnx_session import cpu_session
from fer.engine.preprocess import INPUT_SIZE, prepare_faces
from fer.hashing import sha256_hex
from fer.labels import CLASSES, NUM_CLASSES
from fer.paths import ACCURATE_MODEL_PATHS, CALIBRATION_PATH, DEFAULT_MODEL_PATH

# Faces per network call: bounds memory when a whole data set is scored at once.
_CHUNK = 256


@dataclass(frozen=True)
class Profile:
    """How a serving profile reads a face: with which networks (their probabilities averaged), and whether each
    also reads the mirror image."""

    models: tuple[Path, ...]
    flip_average: bool


# Serving profiles, one API: "fast" runs one network once per face (live video); "accurate" averages the ensemble's
# networks over the face and its mirror image (recordings), with its own temperature.
PROFILES = {
    "fast": Profile((DEFAULT_MODEL_PATH,), flip_average=False),
    "accurate": Profile(ACCURATE_MODEL_PATHS, flip_average=True),
}


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
        """``model_path``: one network instead of the profile's; ``onnx_model``: that network as ONNX when
        ``model_path`` holds it in another format (a ``.keras`` file); ``temperature``: None takes the fitted one where
        ``models/calibration.json`` is for these networks (and for flip averaging, if on), else 1; ``profile``
        ("fast" or "accurate", see ``PROFILES``) sets the networks (unless ``model_path``) and ``flip_average``."""
        paths: tuple[Path, ...] = (Path(model_path) if model_path else DEFAULT_MODEL_PATH,)
        if profile is not None:
            if profile not in PROFILES:
                raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {profile!r}")
            flip_average = PROFILES[profile].flip_average
            paths = paths if model_path else PROFILES[profile].models
        self._networks = [_Network.open(path, onnx_model, threads) for path in paths]
        self.flip_average = flip_average
        self.profile = "accurate" if flip_average else "fast"
        self.model_names = tuple(path.name for path in paths)
        self.sha256 = ensemble_sha256([network.sha256 for network in self._networks])
        self.version = "+".join(path.stem for path in paths) + f"-{self.sha256[:12]}"
        self.temperature = fitted_temperature(self.sha256, flip_average) if temperature is None else temperature
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")

    def warm_up(self) -> None:
        """Run the networks once so the first real frame does not pay onnxruntime's first-call set-up."""
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
        """The networks' probabilities for a prepared batch, averaged over the networks."""
        return sum(network.run(batch) for network in self._networks) / len(self._networks)


@dataclass(frozen=True)
class _Network:
    """One network's onnxruntime session."""

    session: ort.InferenceSession
    input_name: str
    sha256: str

    @classmethod
    def open(cls, path: Path, onnx_model: bytes | None, threads: int | None) -> _Network:
        if not path.is_file():
            raise FileNotFoundError(f"model file not found: {path}")
        if onnx_model is None and path.suffix == ".keras":
            raise ValueError(f"{path} is a Keras file: load it with fer.training.onnx_export.load_classifier")
        raw = path.read_bytes()
        session = cpu_session(onnx_model or raw, threads)
        outputs = session.get_outputs()[0].shape[-1]
        if outputs != NUM_CLASSES:
            raise ValueError(f"{path} outputs {outputs} classes, expected {NUM_CLASSES}")
        return cls(session, session.get_inputs()[0].name, sha256_hex(raw))

    def run(self, batch: np.ndarray) -> np.ndarray:
        outputs = [
            self.session.run(None, {self.input_name: np.ascontiguousarray(batch[start : start + _CHUNK])})[0]
            for start in range(0, len(batch), _CHUNK)
        ]
        probabilities = np.concatenate(outputs).astype(np.float32)
        return probabilities / probabilities.sum(axis=1, keepdims=True)


def ensemble_sha256(digests: Sequence[str]) -> str:
    """One network: its file's SHA-256; several: the SHA-256 of their digests in order (what a temperature is for)."""
    return digests[0] if len(digests) == 1 else sha256_hex("".join(digests).encode())


def calibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling on probabilities: softmax(log p / T), rows summing to 1 (T = 1 changes nothing)."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.maximum(probabilities, 1e-12)) / temperature
    scaled = np.exp(logits - logits.max(axis=1, keepdims=True))
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def fitted_temperature(model_sha256: str, flip_average: bool = False, path: Path = CALIBRATION_PATH) -> float:
    """The temperature fitted to the networks with this SHA-256 (``ensemble_sha256``): the fast profile's at the top
    of the file, the accurate (flip-averaged) one's under "accurate"; 1.0 (uncalibrated) when none is."""
    try:
        calibration = json.loads(path.read_text())
    except (OSError, ValueError):
        return 1.0
    fitted = calibration.get("accurate", {}) if flip_average else calibration
    if fitted.get("model_sha256") != model_sha256 or "temperature" not in fitted:
        return 1.0
    return float(fitted["temperature"])
