"""Classroom facial-expression analytics: the core package the Streamlit pages call."""

from fer.labels import CLASSES

__version__ = "0.1.0"
__all__ = ["CLASSES", "__version__"]
