"""One way to open an onnxruntime session on the CPU, shared by the detector and the classifier.

onnxruntime's telemetry is switched off before any session exists: nothing leaves the server. The Python call below
is not enough on Linux: the wheel's native client still looked up ``mobile.events.data.microsoft.com`` ~9 s after
a session opened and every ~5 s after (strace). ``fer/__init__.py`` sets ``ORT_DISABLE_TELEMETRY``, which only
works when set before onnxruntime is first imported.
"""

from __future__ import annotations

import os

import onnxruntime

onnxruntime.disable_telemetry_events()


def cpu_session(
    model: str | bytes, threads: int | None = None, varying_shapes: bool = False
) -> onnxruntime.InferenceSession:
    """A CPU session on ``model`` (a path or serialized bytes) using ``threads`` (default: the cores we may use).

    ``varying_shapes``: the network is fed inputs of many sizes (the detector: whole frames and face windows).
    onnxruntime's memory pattern then keeps a plan and its buffers per size; without it a 1080p CenterFace run
    held 406 MB instead of 692 MB, at the same speed (measured, four runs after a warm-up).
    """
    options = onnxruntime.SessionOptions()
    options.enable_mem_pattern = not varying_shapes
    options.log_severity_level = 3
    options.intra_op_num_threads = threads or len(os.sched_getaffinity(0))
    # No busy-waiting between runs: the decoder and encoder threads need those cores (measured +10%).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
