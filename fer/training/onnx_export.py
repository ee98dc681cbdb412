"""Keras model -> ONNX graph -> int8 ONNX, so the app classifies faces on onnxruntime.

Why: on the 2-core CPU the same network runs about twice as fast as int8 on
onnxruntime as on Keras/JAX (numbers in models/MODEL_CARD.md), and the app
then needs neither JAX nor TensorFlow at run time. Keras stays the tool that
defines and trains the network; this module translates the layer types that
``fer.training.model.build_model`` uses (batch norm folded into the convolutions) and
refuses anything else rather than guess.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from fer.engine.classifier import EmotionClassifier
from fer.engine.preprocess import INPUT_SIZE
from fer.hashing import file_sha256
from fer.labels import CLASSES, NUM_CLASSES

if TYPE_CHECKING:  # Keras loads only where a .keras file is read
    import keras

INPUT_NAME = "face"
OUTPUT_NAME = "probabilities"
# onnxruntime 1.31 reads IR versions up to 13; the onnx package writes 14 unless told.
_IR_VERSION = 8
_OPSET = 17


class _GraphBuilder:
    """Appends nodes to a linear chain, tracking the name of the current tensor."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []
        self.current = INPUT_NAME

    def add(self, op: str, name: str, weights: dict[str, np.ndarray] | None = None, **attributes: object) -> None:
        inputs = [self.current]
        for suffix, value in (weights or {}).items():
            self.weights.append(numpy_helper.from_array(value.astype(np.float32), f"{name}_{suffix}"))
            inputs.append(f"{name}_{suffix}")
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attributes))
        self.current = name


def to_onnx(model: keras.Model) -> onnx.ModelProto:
    """Translate a ``build_model`` network into an equivalent float32 ONNX graph (input NHWC, like Keras)."""
    graph = _GraphBuilder()
    graph.add("Transpose", "to_nchw", perm=[0, 3, 1, 2])
    pending_conv = None
    for layer in model.layers:
        kind = type(layer).__name__
        if pending_conv is not None and kind != "BatchNormalization":
            _add_conv(graph, pending_conv, None)
            pending_conv = None
        if kind in ("InputLayer", "Dropout"):
            continue
        if kind == "Conv2D":
            _check_conv(layer)
            pending_conv = layer
        elif kind == "BatchNormalization":
            if pending_conv is None:
                raise ValueError(f"layer {layer.name}: batch norm must follow a convolution to be folded")
            _add_conv(graph, pending_conv, layer)
            pending_conv = None
        elif kind == "ReLU":
            graph.add("Relu", layer.name)
        elif kind == "MaxPooling2D":
            _check_pool(layer)
            graph.add("MaxPool", layer.name, kernel_shape=list(layer.pool_size), strides=list(layer.strides))
        elif kind == "GlobalAveragePooling2D":
            graph.add("GlobalAveragePool", layer.name)
            graph.add("Flatten", f"{layer.name}_flat")
        elif kind == "Dense":
            _add_dense(graph, layer)
        else:
            raise ValueError(f"layer {layer.name}: {kind} has no ONNX translation here")
    if pending_conv is not None:
        raise ValueError(f"layer {pending_conv.name}: a convolution cannot end the network")
    if graph.current != OUTPUT_NAME:
        raise ValueError("the network must end with the 7-way softmax Dense layer")
    return _model(graph)


def _check_conv(layer: keras.layers.Conv2D) -> None:
    kernel = layer.kernel_size
    if layer.padding != "same" or tuple(layer.strides) != (1, 1) or tuple(layer.dilation_rate) != (1, 1):
        raise ValueError(f"layer {layer.name}: only stride-1 'same' convolutions are translated")
    if layer.activation.__name__ != "linear" or kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
        raise ValueError(f"layer {layer.name}: only odd kernels without a built-in activation are translated")


def _check_pool(layer: keras.layers.MaxPooling2D) -> None:
    if layer.padding != "valid":
        raise ValueError(f"layer {layer.name}: only 'valid' pooling is translated")


def _add_conv(graph: _GraphBuilder, conv: keras.layers.Conv2D, norm: keras.layers.BatchNormalization | None) -> None:
    """Conv (+ batch norm folded into its weights and bias)."""
    weights = conv.get_weights()
    kernel = weights[0]  # (h, w, in, out)
    bias = weights[1] if conv.use_bias else np.zeros(kernel.shape[-1], np.float32)
    if norm is not None:
        gamma, beta, mean, variance = _norm_parameters(norm)
        scale = gamma / np.sqrt(variance + norm.epsilon)
        kernel = kernel * scale
        bias = (bias - mean) * scale + beta
    height, width = kernel.shape[:2]
    graph.add(
        "Conv",
        norm.name if norm is not None else conv.name,
        {"weight": kernel.transpose(3, 2, 0, 1), "bias": bias},
        kernel_shape=[height, width],
        pads=[height // 2, width // 2, height // 2, width // 2],
    )


def _norm_parameters(norm: keras.layers.BatchNormalization) -> tuple[np.ndarray, ...]:
    """(gamma, beta, moving mean, moving variance), with 1 and 0 where the layer has no scale or centre."""
    values = list(norm.get_weights())
    channels = values[-1].shape[0]
    gamma = values.pop(0) if norm.scale else np.ones(channels, np.float32)
    beta = values.pop(0) if norm.center else np.zeros(channels, np.float32)
    mean, variance = values
    return gamma, beta, mean, variance


def _add_dense(graph: _GraphBuilder, layer: keras.layers.Dense) -> None:
    kernel, bias = layer.get_weights()
    if kernel.shape[1] != NUM_CLASSES or layer.activation.__name__ != "softmax":
        raise ValueError(f"layer {layer.name}: only the final 7-way softmax Dense layer is translated")
    graph.add("Gemm", f"{layer.name}_logits", {"weight": kernel, "bias": bias})
    graph.add("Softmax", OUTPUT_NAME, axis=1)


def _model(graph: _GraphBuilder) -> onnx.ModelProto:
    inputs = [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", INPUT_SIZE, INPUT_SIZE, 1])]
    outputs = [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", NUM_CLASSES])]
    proto = helper.make_model(
        helper.make_graph(graph.nodes, "fer_classifier", inputs, outputs, graph.weights),
        opset_imports=[helper.make_opsetid("", _OPSET)],
        ir_version=_IR_VERSION,
        producer_name="fer.onnx_export",
    )
    helper.set_model_props(proto, {"classes": ",".join(CLASSES)})
    onnx.checker.check_model(proto)
    return proto


def quantize(model: onnx.ModelProto, calibration: np.ndarray, batch_size: int = 64) -> onnx.ModelProto:
    """Static int8 quantisation calibrated on ``calibration`` (preprocessed faces, N x 48 x 48 x 1).

    Weights are 7-bit (``reduce_range``): without it, AVX2 CPUs (no VNNI, like
    the 2-core machine) saturate in the int8 dot products; measured on the
    FER2013 test split, full-range weights lost 3 points of accuracy, 7-bit
    ones 0.2-0.4.
    """
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    batches = [calibration[start : start + batch_size] for start in range(0, len(calibration), batch_size)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter(batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    with tempfile.TemporaryDirectory() as folder:
        # From a file, not the proto: given a proto, quantize_static rewrites the caller's copy in place.
        source, prepared, target = (Path(folder) / name for name in ("float.onnx", "prepared.onnx", "int8.onnx"))
        onnx.save(model, source)
        # onnxruntime's recommended graph clean-up and shape inference before quantising.
        quant_pre_process(source, prepared, skip_symbolic_shape=True)
        quantize_static(
            prepared,
            target,
            Reader(),
            quant_format=QuantFormat.QDQ,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=True,
            nodes_to_exclude=[OUTPUT_NAME],  # softmax in float: 8-bit probabilities would round small ones to 0
        )
        quantized = onnx.load(target)
    quantized.ir_version = _IR_VERSION
    return quantized


def load_classifier(model_path: str | Path | None = None, **options) -> EmotionClassifier:
    """The classifier for an ONNX file (default: the shipped one) or a ``.keras`` file, translated to float32
    ONNX first; ``options`` as ``EmotionClassifier`` takes them (``flip_average``, ``threads``)."""
    if model_path is None or Path(model_path).suffix != ".keras" or not Path(model_path).is_file():
        return EmotionClassifier(model_path, **options)
    onnx_model = _load_keras_as_onnx(Path(model_path)).SerializeToString()
    return EmotionClassifier(model_path, onnx_model=onnx_model, **options)


def _load_keras_as_onnx(keras_path: Path) -> onnx.ModelProto:
    from fer.training.backend import keras  # Keras (and JAX) load only when a .keras file is used

    return to_onnx(keras.models.load_model(keras_path, compile=False))


def export_classifier(keras_path: Path, calibration: np.ndarray, target: Path) -> Path:
    """Write the int8 ONNX classifier for ``keras_path``, stamped with that file's SHA-256."""
    quantized = quantize(_load_keras_as_onnx(keras_path), calibration)
    helper.set_model_props(
        quantized,
        {
            "classes": ",".join(CLASSES),
            "source": keras_path.name,
            "source_sha256": file_sha256(keras_path),
            "calibration_faces": str(len(calibration)),
        },
    )
    partial = target.with_name(target.name + ".partial")
    onnx.save(quantized, partial)
    partial.replace(target)
    return target
