"""The expression network: a compact VGG-style CNN for 48x48 grayscale faces.

Compact on purpose: the app classifies every face of every frame on a
2-core CPU, so the network is sized by the throughput target in the model
card. Widths avoid powers of two because XLA's CPU convolutions measured
faster that way on this machine (bench notes in models/MODEL_CARD.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from fer.engine.preprocess import INPUT_SIZE
from fer.labels import NUM_CLASSES
from fer.training.backend import keras

layers = keras.layers


@dataclass(frozen=True)
class ModelConfig:
    widths: tuple[int, ...] = (24, 40, 80, 160)
    convs_per_stage: tuple[int, ...] = (1, 2, 2, 2)
    dropout: float = 0.3


def build_model(config: ModelConfig) -> keras.Model:
    """Stages of 3x3 conv + BN + ReLU, 2x2 max-pool between stages, global average pool, softmax."""
    if len(config.widths) != len(config.convs_per_stage):
        raise ValueError("widths and convs_per_stage must have the same length")
    inputs = keras.Input((INPUT_SIZE, INPUT_SIZE, 1), name="face")
    x = inputs
    for stage, (width, convs) in enumerate(zip(config.widths, config.convs_per_stage, strict=True)):
        for i in range(convs):
            name = f"s{stage + 1}_conv{i + 1}"
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=name)(x)
            x = layers.BatchNormalization(name=f"{name}_bn")(x)
            x = layers.ReLU(name=f"{name}_relu")(x)
        if stage < len(config.widths) - 1:
            x = layers.MaxPooling2D(name=f"s{stage + 1}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(config.dropout, name="dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="fer_vgg")
