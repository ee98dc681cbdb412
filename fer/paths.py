"""Where the checkout keeps the shipped model (models/) and, by default, the app's data (data/)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
KERAS_MODEL_PATH = MODELS_DIR / "fer_vgg.keras"
# What the app runs: the int8 ONNX export of KERAS_MODEL_PATH (`fer export`).
DEFAULT_MODEL_PATH = MODELS_DIR / "fer_vgg.int8.onnx"
# A second network, trained on faces degraded as real footage degrades them (model card, stage 3).
FOOTAGE_MODEL_PATH = MODELS_DIR / "fer_vgg_footage.int8.onnx"
FOOTAGE_KERAS_PATH = MODELS_DIR / "fer_vgg_footage.keras"
# The accurate profile's ensemble (each network flip-averaged, then averaged together).
ACCURATE_MODEL_PATHS = (DEFAULT_MODEL_PATH, FOOTAGE_MODEL_PATH)
METRICS_PATH = MODELS_DIR / "metrics.json"  # the fast profile's, `fer evaluate --out models`
ACCURATE_METRICS_PATH = MODELS_DIR / "metrics_accurate.json"  # `fer evaluate --profile accurate`
# Temperature scaling of the shipped model's probabilities, and the readability thresholds with the training
# data's reference signals; both written by bench/readability.py.
CALIBRATION_PATH = MODELS_DIR / "calibration.json"
READABILITY_PATH = MODELS_DIR / "readability.json"
# The database and uploads unless FER_DATA_DIR says otherwise.
DEFAULT_DATA_DIR = ROOT / "data"
