"""Where the shipped model and its files live (the checkout's models/ folder)."""

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
KERAS_MODEL_PATH = MODELS_DIR / "fer_vgg.keras"
# What the app runs: the int8 ONNX export of KERAS_MODEL_PATH (`fer export`).
DEFAULT_MODEL_PATH = MODELS_DIR / "fer_vgg.int8.onnx"
METRICS_PATH = MODELS_DIR / "metrics.json"
