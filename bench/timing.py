"""Shared timing helper for the benchmark scripts."""

import time
from collections.abc import Callable

import numpy as np


def median_seconds(call: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    """Median wall time of ``call`` over ``repeats`` runs, after ``warmup`` untimed runs (compilation, caches)."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
