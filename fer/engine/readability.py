"""Readability: a face's expression is read only where it can be read with known accuracy.

A network trained on 48x48 frontal faces answers for any crop, so the engine
decides per face, from measured signals, whether to believe it at all:

- **small**: the square crop the classifier reads is narrower than ``min_face_px``
  source pixels (FER2013 test faces lose more than 3 points of accuracy below it);
- **pose**: the head is turned (yaw) or pitched (looking down or up) beyond what
  the training faces show, or tilted sideways (roll) beyond where accuracy drops,
  judged from CenterFace's five landmarks;
- **blur**: the crop is too soft or too flat (motion blur, a dark room);
- **uncertain**: the calibrated top probability is below ``uncertain_below``.

Every threshold is measured by ``bench/readability.py`` and stored with the
model in ``models/readability.json``, beside the same signals for the training
data (the reference the input monitor compares a session against).
An unreadable face keeps its box and track, gets no expression, and is left out
of every share, smoothing state and indicator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer.engine.detections import UNREADABLE_REASONS, Detections
from fer.paths import READABILITY_PATH

SMALL, POSE, BLUR, UNCERTAIN = (1 + UNREADABLE_REASONS.index(r) for r in ("small", "pose", "blur", "uncertain"))
# Per-face measurements, in this order, for the session's quality block and the input monitor.
QUALITY_SIGNALS = ("face_px", "yaw_deg", "pitch_deg", "brightness", "contrast", "sharpness")
# Nose-tip depth in front of the eyes, as a fraction of the eye distance (a simple geometric face model).
_NOSE_DEPTH = 0.6


@dataclass(frozen=True)
class ReadabilityConfig:
    """Thresholds for a readable face and the frontal pose of the training faces they were measured on."""

    min_face_px: float  # side of the classifier's square crop, in source pixels
    max_abs_yaw_deg: float
    max_abs_roll_deg: float  # the eye line's tilt from level
    min_pitch_deg: float  # looking up
    max_pitch_deg: float  # looking down
    min_sharpness: float
    min_contrast: float
    uncertain_below: float  # calibrated top probability
    frontal_nose_height: float  # nose tip between eye line (0) and mouth line (1) on a frontal face
    frontal_eye_over_height: float  # eye distance / eye-to-mouth height on a frontal face

    @classmethod
    def load(cls, path: Path = READABILITY_PATH) -> ReadabilityConfig:
        return cls(**json.loads(path.read_text())["thresholds"])


def reference_quality(path: Path = READABILITY_PATH) -> dict[str, dict[str, float]]:
    """The training data's signals (median and quartiles), measured with the thresholds."""
    return json.loads(path.read_text())["reference"]


def image_signals(faces48: np.ndarray) -> np.ndarray:
    """(N, 48, 48) uint8 -> (N, 3) brightness (mean), contrast (std) and sharpness.

    Sharpness is the variance of the Laplacian of the crop scaled to unit contrast,
    so a dim but sharp face is not called blurred; a flat crop is caught by contrast.
    """
    gray = faces48.astype(np.float32)
    brightness = gray.mean(axis=(1, 2))
    contrast = gray.std(axis=(1, 2))
    scaled = gray / np.maximum(contrast, 1.0)[:, None, None]
    sharpness = np.array([cv2.Laplacian(face, cv2.CV_32F).var() for face in scaled], np.float32).reshape(-1)
    return np.column_stack([brightness, contrast, sharpness]).astype(np.float32).reshape(-1, 3)


def pose_angles(
    landmarks: np.ndarray, frontal_nose_height: float, frontal_eye_over_height: float
) -> tuple[np.ndarray, np.ndarray]:
    """(N, 5, 2) landmarks -> approximate yaw and pitch in degrees (NaN where landmarks are missing).

    In the face's own frame (eye line horizontal), the nose tip moves sideways with
    yaw and towards the mouth with a downward pitch, by about ``_NOSE_DEPTH`` eye
    distances times the tangent of the angle. Yaw > 0: turned to the image's right;
    pitch > 0: looking down.
    """
    landmarks = np.asarray(landmarks, np.float64).reshape(-1, 5, 2)
    left_eye, right_eye, nose, left_mouth, right_mouth = (landmarks[:, i] for i in range(5))
    eye_mid = (left_eye + right_eye) / 2
    mouth_mid = (left_mouth + right_mouth) / 2
    eye_vector = right_eye - left_eye
    eye_distance = np.maximum(np.linalg.norm(eye_vector, axis=1), 1e-6)
    across = eye_vector / eye_distance[:, None]
    down = np.column_stack([-across[:, 1], across[:, 0]])  # the face's downward axis
    height = np.maximum(np.einsum("ij,ij->i", mouth_mid - eye_mid, down), 1e-6)
    midline = (eye_mid + mouth_mid) / 2
    sideways = np.einsum("ij,ij->i", nose - midline, across) / eye_distance
    nose_height = np.einsum("ij,ij->i", nose - eye_mid, down) / height
    yaw = np.degrees(np.arctan(sideways / _NOSE_DEPTH))
    pitch_tangent = (nose_height - frontal_nose_height) / (_NOSE_DEPTH * frontal_eye_over_height)
    pitch = np.degrees(np.arctan(pitch_tangent))
    return yaw.astype(np.float32), pitch.astype(np.float32)


def roll_angles(landmarks: np.ndarray) -> np.ndarray:
    """(N, 5, 2) landmarks -> the eye line's tilt from level in degrees, either way (NaN where landmarks are
    missing). A crop is cut upright, so a tilted head reaches the classifier tilted."""
    landmarks = np.asarray(landmarks, np.float64).reshape(-1, 5, 2)
    eye_vector = landmarks[:, 1] - landmarks[:, 0]
    return np.degrees(np.arctan2(eye_vector[:, 1], eye_vector[:, 0])).astype(np.float32)


class ReadabilityFilter:
    """Marks the faces whose expression can't be read; ``reset()`` between sessions.

    ``assess(faces, faces48, crop_px)`` sets ``faces.unreadable`` for size, pose and
    blur before classification; ``mark_uncertain(faces)`` after it. Pose needs
    landmarks, which only detection rounds give: a track keeps its last measured
    pose on the frames the tracker predicts.
    """

    def __init__(self, config: ReadabilityConfig | None = None) -> None:
        self.config = config or ReadabilityConfig.load()
        self.reset()

    def reset(self) -> None:
        self._pose: dict[int, tuple[float, float, float]] = {}  # track -> yaw, pitch, roll

    def assess(self, faces: Detections, faces48: np.ndarray, crop_px: np.ndarray) -> np.ndarray:
        """Set ``faces.unreadable`` (small, pose, blur; first that applies) and return the (N, 6) signals."""
        return self.assess_signals(faces, image_signals(faces48), crop_px)

    def assess_signals(self, faces: Detections, crop_signals: np.ndarray, crop_px: np.ndarray) -> np.ndarray:
        """``assess`` with the crops' ``image_signals`` measured elsewhere (by the browser, in Live's browser mode)."""
        config = self.config
        yaw, pitch = pose_angles(faces.landmarks, config.frontal_nose_height, config.frontal_eye_over_height)
        yaw, pitch, roll = self._fill_pose_from_tracks(faces.track_id, yaw, pitch, roll_angles(faces.landmarks))
        brightness, contrast, sharpness = np.asarray(crop_signals, np.float32).reshape(-1, 3).T
        code = np.zeros(len(faces), np.int8)
        turned = (
            (np.abs(yaw) > config.max_abs_yaw_deg)
            | (pitch > config.max_pitch_deg)
            | (pitch < config.min_pitch_deg)
            | (np.abs(roll) > config.max_abs_roll_deg)
        )
        soft = (sharpness < config.min_sharpness) | (contrast < config.min_contrast)
        for reason, mask in ((BLUR, soft), (POSE, turned), (SMALL, crop_px < config.min_face_px)):
            code[mask] = reason  # later assignments win: small > pose > blur
        faces.unreadable = code
        return np.column_stack([crop_px, yaw, pitch, brightness, contrast, sharpness]).astype(np.float32)

    def mark_uncertain(self, faces: Detections) -> None:
        """Readable faces whose calibrated top probability is below the threshold become 'uncertain'."""
        top = np.nan_to_num(faces.probs, nan=0.0).max(axis=1) if len(faces) else np.empty(0)
        faces.unreadable[(faces.unreadable == 0) & (top < self.config.uncertain_below)] = UNCERTAIN

    def _fill_pose_from_tracks(
        self, track_ids: np.ndarray, yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        for row, track_id in enumerate(track_ids.tolist()):
            if np.isnan(yaw[row]):
                yaw[row], pitch[row], roll[row] = self._pose.get(track_id, (np.nan, np.nan, np.nan))
            else:
                self._pose[track_id] = (float(yaw[row]), float(pitch[row]), float(roll[row]))
        if len(self._pose) > 4096:  # tracks long gone; memory stays flat over long sessions
            self._pose = dict(list(self._pose.items())[-1024:])
        return yaw, pitch, roll
