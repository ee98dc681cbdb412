"""The Keras -> ONNX translation and the int8 export the app runs."""

from pathlib import Path

import numpy as np
import onnx
import pytest

from fer.engine.classifier import EmotionClassifier
from fer.engine.crops import face_crops
from fer.engine.detection import CenterFaceDetector
from fer.engine.onnx_session import cpu_session
from fer.hashing import file_sha256
from fer.paths import DEFAULT_MODEL_PATH, KERAS_MODEL_PATH
from fer.training.backend import keras
from fer.training.model import ModelConfig, build_model
from fer.training.onnx_export import export_classifier, load_classifier, quantize, to_onnx
from tests.conftest import portrait

SMALL = ModelConfig(widths=(8, 12, 16), convs_per_stage=(1, 2, 1))


def _run(proto: onnx.ModelProto, batch: np.ndarray) -> np.ndarray:
    return cpu_session(proto.SerializeToString()).run(None, {"face": batch})[0]


def _faces(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 48, 48, 1)).astype(np.float32)


def _trained_looking(config: ModelConfig) -> keras.Model:
    """Random weights plus non-trivial batch-norm statistics, so folding them is really exercised."""
    model = build_model(config)
    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 2, channels),
                    rng.normal(0, 0.5, channels),
                    rng.normal(0, 0.5, channels),
                    rng.uniform(0.2, 3, channels),
                ]
            )
    return model


def test_translation_matches_keras() -> None:
    model = _trained_looking(SMALL)
    faces = _faces(5)
    np.testing.assert_allclose(_run(to_onnx(model), faces), np.asarray(model.predict_on_batch(faces)), atol=1e-5)


def test_layers_without_a_translation_are_refused() -> None:
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(inputs)
    outputs = keras.layers.Dense(7, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    with pytest.raises(ValueError, match="only stride-1 'same' convolutions"):
        to_onnx(keras.Model(inputs, outputs))
    x = keras.layers.Flatten()(inputs)
    with pytest.raises(ValueError, match="Flatten has no ONNX translation"):
        to_onnx(keras.Model(inputs, keras.layers.Dense(7, activation="softmax")(x)))


def test_quantized_model_stays_close_to_float() -> None:
    model = _trained_looking(SMALL)
    calibration = _faces(128, seed=2)
    floating = to_onnx(model)
    quantized = quantize(floating, calibration)
    ops = {node.op_type for node in quantized.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # really int8, not a copy
    faces = _faces(64, seed=3)
    expected, got = _run(floating, faces), _run(quantized, faces)
    np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-5)
    assert np.abs(got - expected).max() < 0.1


def test_export_stamps_its_source(tmp_path: Path) -> None:
    source = tmp_path / "small.keras"
    _trained_looking(SMALL).save(source)
    target = export_classifier(source, _faces(64), tmp_path / "small.int8.onnx")
    props = {p.key: p.value for p in onnx.load(target).metadata_props}
    assert props["source_sha256"] == file_sha256(source) and props["calibration_faces"] == "64"
    assert EmotionClassifier(target).predict([np.zeros((30, 30), np.uint8)]).shape == (1, 7)


def test_shipped_onnx_is_the_export_of_the_shipped_keras_model() -> None:
    """Guards against retraining the .keras file and forgetting `fer export`."""
    props = {p.key: p.value for p in onnx.load(DEFAULT_MODEL_PATH).metadata_props}
    assert props["source"] == KERAS_MODEL_PATH.name
    assert props["source_sha256"] == file_sha256(KERAS_MODEL_PATH), "run `python -m fer export --data <FER2013>`"


def test_a_keras_file_runs_as_the_same_network() -> None:
    """A .keras model (e.g. a training run's output) is translated on load, not approximated."""
    from fer.engine.preprocess import prepare_faces

    crops = np.random.default_rng(3).integers(0, 256, size=(9, 60, 50), dtype=np.uint8)
    network = keras.models.load_model(KERAS_MODEL_PATH, compile=False)
    expected = np.asarray(network.predict_on_batch(prepare_faces(crops)))
    np.testing.assert_allclose(load_classifier(KERAS_MODEL_PATH).predict(crops), expected, atol=1e-5)


def test_shipped_int8_model_reads_a_real_face_like_the_keras_model(classifier) -> None:
    frame = portrait()
    face = face_crops(frame, CenterFaceDetector().detect(frame).xyxy)
    assert len(face) == 1
    shipped, source = classifier.predict(face)[0], load_classifier(KERAS_MODEL_PATH).predict(face)[0]
    assert shipped.argmax() == source.argmax()
    assert np.abs(shipped - source).max() < 0.1
