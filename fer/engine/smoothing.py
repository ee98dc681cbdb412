"""Temporal smoothing of each track's class probabilities.

Single-frame predictions flicker (a blink, motion blur); a teacher wants the
expression a face holds. Smoothing is per track and time-based (seconds, not
frames) so frame strides and variable frame rates smooth alike.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np

from fer.engine.detections import Detections

SmoothingMethod = Literal["ema", "window", "none"]


@dataclass(frozen=True)
class SmoothingConfig:
    """``ema``: exponential average with time constant ``seconds``; ``window``: mean of the last ``seconds``."""

    method: SmoothingMethod = "ema"
    seconds: float = 0.5

    def __post_init__(self) -> None:
        if self.method not in ("ema", "window", "none"):
            raise ValueError(f"unknown smoothing method {self.method!r}")
        if self.seconds < 0:
            raise ValueError("smoothing seconds must be >= 0")


class ProbabilitySmoother:
    """``update(detections, time_s)`` returns the detections with smoothed ``probs``."""

    def __init__(self, config: SmoothingConfig | None = None) -> None:
        self.config = config or SmoothingConfig()
        self.reset()

    def reset(self) -> None:
        self._ema: dict[int, tuple[float, np.ndarray]] = {}
        self._window: dict[int, deque[tuple[float, np.ndarray]]] = {}

    def update(self, detections: Detections, time_s: float) -> Detections:
        if self.config.method == "none" or self.config.seconds == 0 or len(detections) == 0:
            return detections
        pairs = zip(detections.track_id, detections.probs, strict=True)
        smoothed = np.array([self._smooth(int(track_id), probs, time_s) for track_id, probs in pairs])
        self._forget_older_than(time_s - 10 * self.config.seconds - 5.0)
        return Detections(detections.xyxy, detections.score, detections.track_id, smoothed)

    def _smooth(self, track_id: int, probs: np.ndarray, time_s: float) -> np.ndarray:
        if self.config.method == "ema":
            previous = self._ema.get(track_id)
            if previous is not None:
                weight = 1.0 - np.exp(-max(time_s - previous[0], 0.0) / self.config.seconds)
                probs = previous[1] + weight * (probs - previous[1])
            self._ema[track_id] = (time_s, probs)
            return probs
        history = self._window.setdefault(track_id, deque())
        history.append((time_s, probs))
        while history[0][0] <= time_s - self.config.seconds:
            history.popleft()
        return np.mean([p for _, p in history], axis=0)

    def _forget_older_than(self, time_s: float) -> None:
        """Drop state of tracks that ended long ago, so memory stays flat over long sessions."""
        self._ema = {k: v for k, v in self._ema.items() if v[0] >= time_s}
        self._window = {k: v for k, v in self._window.items() if v and v[-1][0] >= time_s}
