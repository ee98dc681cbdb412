"""Choose the Keras backend before Keras is first imported.

JAX is the default (see README: smallest install, fastest single-face
inference on CPU). ``KERAS_BACKEND`` set in the environment still wins, so
training can run on another backend; the saved ``.keras`` file is portable.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

__all__ = ["keras"]
