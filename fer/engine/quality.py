"""Input monitoring: how a session's faces compare with the faces the model was validated on.

Every face's readability signals (size, pose, brightness, contrast, sharpness) go into
a fixed-size random sample, so memory stays flat for any session length. At the end
the session gets a ``quality`` block (median and quartiles beside the training data's)
and, where it falls outside what the model was validated on, plain warnings that say
what to do about it.
"""

from __future__ import annotations

import numpy as np

from fer.engine.readability import QUALITY_SIGNALS, ReadabilityConfig, reference_quality
from fer.labels import CLASSES

SAMPLE_ROWS = 20_000
MOSTLY = 0.5  # a warning about a condition needs at least this share of the faces in it
# Expressions a poorly seen face is typically misread as; one of them dominating a session is a drift sign.
NEGATIVE_SIGNS = ("angry", "disgust", "fear", "sad")


class QualityMonitor:
    """``add(signals, track_ids)`` per frame; ``report(static, class_shares)`` at the end."""

    def __init__(self, capacity: int = SAMPLE_ROWS, seed: int = 0) -> None:
        self.capacity = capacity
        self._rng = np.random.default_rng(seed)
        self._signals = np.empty((capacity, len(QUALITY_SIGNALS)), np.float32)
        self._tracks = np.empty(capacity, np.int64)
        self._seen = 0

    def add(self, signals: np.ndarray, track_ids: np.ndarray) -> None:
        """Reservoir sampling: every face seen so far has the same chance to be in the sample."""
        for row, track_id in zip(np.asarray(signals).reshape(-1, len(QUALITY_SIGNALS)), track_ids, strict=True):
            slot = self._seen if self._seen < self.capacity else int(self._rng.integers(0, self._seen + 1))
            self._seen += 1
            if slot < self.capacity:
                self._signals[slot] = row
                self._tracks[slot] = track_id

    def report(self, static: set[int], class_shares: dict[str, float] | None) -> dict:
        """``quality`` (per signal: session and training quartiles) and ``input_warnings`` (plain sentences)."""
        kept = min(self._seen, self.capacity)
        signals = self._signals[:kept][~np.isin(self._tracks[:kept], list(static))]
        reference = reference_quality()
        quality = {
            name: {"session": _quartiles(signals[:, column]), "training": reference[name]}
            for column, name in enumerate(QUALITY_SIGNALS)
        }
        warnings = input_warnings(signals, class_shares, reference, ReadabilityConfig.load())
        return {"quality": quality, "input_warnings": warnings}


def input_warnings(
    signals: np.ndarray, class_shares: dict[str, float] | None, reference: dict, config: ReadabilityConfig
) -> list[str]:
    """Where the session's faces fall outside what the model was validated on, what that means and what to do."""
    if len(signals) == 0:
        return []
    face_px, yaw, pitch, brightness, contrast, sharpness = signals.T
    warnings = []
    if np.mean(face_px < config.min_face_px) >= MOSTLY:
        warnings.append(
            f"Faces are about {np.median(face_px):.0f} px across; expressions need at least "
            f"{config.min_face_px:.0f} px to be read reliably: record closer or at a higher resolution."
        )
    with np.errstate(invalid="ignore"):
        down, turned = pitch > config.max_pitch_deg, np.abs(yaw) > config.max_abs_yaw_deg
    if np.mean(down) >= MOSTLY:
        warnings.append(
            "Most faces are looking down (reading, writing, at screens), and expressions can't be read on faces "
            "seen from above: a camera at eye height, in front of the class, sees more of them."
        )
    if np.mean(turned) >= MOSTLY:
        warnings.append(
            "Most faces are turned away from the camera: expressions are read only on faces seen from the front."
        )
    if np.mean(sharpness < config.min_sharpness) >= MOSTLY:
        warnings.append("Most faces are blurred (motion or focus): a steadier, sharper recording lets more be read.")
    if np.median(brightness) < reference["brightness"]["q1"] / 2 or np.mean(contrast < config.min_contrast) >= MOSTLY:
        warnings.append(
            "The faces are much darker than the faces the model was validated on: more light on the faces helps."
        )
    if class_shares:
        training = np.array([reference["class_shares"][name] for name in CLASSES])
        session = np.array([class_shares[name] for name in CLASSES])
        for name in NEGATIVE_SIGNS:
            index = CLASSES.index(name)
            if session[index] >= MOSTLY and session[index] >= 2.5 * training[index]:
                warnings.append(
                    f"{name.capitalize()} was read on {session[index]:.0%} of the faces read, far more than in the "
                    f"data the model was validated on ({training[index]:.0%}): this is how the model tends to answer "
                    "faces it sees poorly, so check the recording's conditions before drawing conclusions."
                )
    return warnings


def _quartiles(values: np.ndarray) -> dict[str, float] | None:
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return None
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"q1": round(float(q1), 2), "median": round(float(median), 2), "q3": round(float(q3), 2)}
