"""Classroom facial-expression analytics: the core package the Streamlit pages call."""

import os

# onnxruntime's native telemetry client reads this once, when onnxruntime is first imported; every import of it in
# the app goes through this package first, and child processes inherit it. Not a default: nothing may leave.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

from fer.labels import CLASSES

__version__ = "0.1.0"
__all__ = ["CLASSES", "__version__"]
