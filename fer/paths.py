"""Where the shipped model and its files live (the checkout's models/ folder)."""

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL_PATH = MODELS_DIR / "fer_vgg.keras"
METRICS_PATH = MODELS_DIR / "metrics.json"
