"""Compare Keras backends for this project's network on this CPU.

Run once per backend, each in an environment that has it installed:

    KERAS_BACKEND=jax        python bench/backends.py
    KERAS_BACKEND=tensorflow python bench/backends.py
    KERAS_BACKEND=torch      python bench/backends.py

Prints one JSON line: inference faces/s at batch 64, ms at batch 1 (model
call only, no preprocessing) and training ms per step of 64, medians.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("KERAS_BACKEND", "jax")

from timing import median_seconds

from fer.training.backend import keras
from fer.training.model import ModelConfig, build_model


def main() -> None:
    model = build_model(ModelConfig())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 48, 48, 1)).astype(np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 7, 64), 7)
    batch64 = median_seconds(lambda: model.predict_on_batch(x), 30) * 1000
    batch1 = median_seconds(lambda: model.predict_on_batch(x[:1]), 100) * 1000
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True), loss="categorical_crossentropy")
    train_step = median_seconds(lambda: model.train_on_batch(x, y), 15) * 1000
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "faces_per_s_batch64": round(64000 / batch64),
                "ms_batch1": round(batch1, 2),
                "train_ms_per_step64": round(train_step),
            }
        )
    )


if __name__ == "__main__":
    main()
