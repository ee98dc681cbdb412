"""The per-frame engine shared by video-file analysis and live webcam analysis.

detect (every ``detect_every``-th frame; the tracker predicts boxes in between)
-> track -> crop -> readability (size, pose, blur) -> classify the readable faces in
one batch -> uncertain ones set aside -> flag static faces -> smooth the readable ones.
It holds per-session state (tracks, smoothing) and needs no Streamlit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from fer.engine.classifier import PROFILES, EmotionClassifier
from fer.engine.crops import DEFAULT_MARGIN, face_crops
from fer.engine.detection import CenterFaceDetector, FaceDetector
from fer.engine.detections import Detections
from fer.engine.preprocess import INPUT_SIZE, to_gray48
from fer.engine.readability import ReadabilityConfig, ReadabilityFilter
from fer.engine.smoothing import ProbabilitySmoother, SmoothingConfig
from fer.engine.static_faces import StaticFaceDetector
from fer.engine.tracking import FaceTracker, TrackerConfig


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that changes what the engine finds; stored with each session."""

    every: int = 1  # analyse every N-th frame of a video
    threshold: float = 0.3  # minimum face score to keep a track; a new face needs threshold + 0.2
    detect_every: int = 3  # run the detector on every K-th analysed frame, track in between
    detector_max_side: int | None = None  # shrink frames to this longer side for detection; None = native
    # Read larger videos scaled to this longer side: memory stays bounded for 4K/8K (measured in the README);
    # no shared clip is larger, so their analysis is unchanged. None = native.
    max_side: int | None = 1920
    crop_margin: float = DEFAULT_MARGIN
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    bin_s: float = 1.0  # timeline bin width
    blur: bool = False  # blur every detected face in the exported video
    profile: str = "fast"  # the classifier's serving profile (fer.engine.classifier.PROFILES)

    def __post_init__(self) -> None:
        if self.every < 1 or self.detect_every < 1:
            raise ValueError("every and detect_every must be >= 1")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")
        if self.bin_s <= 0:
            raise ValueError("bin_s must be positive")
        if self.detector_max_side is not None and self.detector_max_side < 32:
            raise ValueError(f"detector size must be at least 32 px, got {self.detector_max_side}")
        if self.max_side is not None and self.max_side < 64:
            raise ValueError(f"max_side must be at least 64 px, got {self.max_side}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {sorted(PROFILES)}, got {self.profile!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> AnalysisSettings:
        """The settings ``to_dict`` gave (e.g. a queued job's), checked again."""
        nested = {"smoothing": SmoothingConfig(**values["smoothing"]), "tracker": TrackerConfig(**values["tracker"])}
        return cls(**{**values, **nested})


def settings_detector(settings: AnalysisSettings, threads: int | None = None) -> CenterFaceDetector:
    """The face detector ``settings`` ask for, on ``threads`` onnxruntime threads (default: every core)."""
    return CenterFaceDetector(threshold=settings.threshold, max_side=settings.detector_max_side, threads=threads)


@dataclass
class FrameResult:
    time_s: float
    faces: Detections  # tracked, classified and smoothed
    detected: Detections  # all boxes of the latest detection round, tracked or not (what blurring must hide)
    detector_ran: bool  # False on frames where the tracker predicted the boxes
    quality: np.ndarray  # (faces, 6) readability signals, columns as readability.QUALITY_SIGNALS


class FrameAnalyzer:
    """``process(image, time_s)`` for each frame in time order; ``reset()`` between sessions."""

    def __init__(
        self,
        classifier: EmotionClassifier,
        settings: AnalysisSettings | None = None,
        detector: FaceDetector | None = None,
        readability: ReadabilityConfig | None = None,
    ) -> None:
        self.settings = settings or AnalysisSettings()
        if getattr(classifier, "profile", self.settings.profile) != self.settings.profile:
            raise ValueError(f"the classifier serves the {classifier.profile!r} profile, the settings ask for another")
        self.classifier = classifier
        self.classifier.warm_up()
        self.detector = detector or settings_detector(self.settings)
        start_score = min(self.settings.threshold + 0.2, 0.95)
        self.tracker = FaceTracker(replace(self.settings.tracker, high_score=start_score))
        self.smoother = ProbabilitySmoother(self.settings.smoothing)
        self.static = StaticFaceDetector()
        self.readability = ReadabilityFilter(readability)
        self._frames = 0
        self._detected = Detections()

    def reset(self) -> None:
        self.tracker.reset()
        self.smoother.reset()
        self.static.reset()
        self.readability.reset()
        self._frames = 0
        self._detected = Detections()

    def process(self, image: np.ndarray, time_s: float) -> FrameResult:
        detecting = self._frames % self.settings.detect_every == 0
        self._frames += 1
        if detecting:
            self._detected = self.detector.detect(image)
            faces = self.tracker.update(self._detected, time_s)
        else:
            faces = self.tracker.predict(time_s)
            height, width = image.shape[:2]
            faces.xyxy = faces.xyxy.clip(0, [width, height, width, height]).astype(np.float32)
        crops = face_crops(image, faces.xyxy, self.settings.crop_margin)
        # each crop to 48x48 once: readability measures it and the classifier reads the same array
        faces48 = (
            np.stack([to_gray48(crop) for crop in crops]) if crops else np.empty((0, INPUT_SIZE, INPUT_SIZE), np.uint8)
        )
        crop_px = faces.wh.max(axis=1) * (1 + 2 * self.settings.crop_margin) if len(faces) else np.empty(0)
        quality = self.readability.assess(faces, faces48, crop_px)
        probs = np.full(faces.probs.shape, np.nan, np.float32)
        probs[faces.readable] = self.classifier.predict(faces48[faces.readable])
        faces.probs = probs
        self.readability.mark_uncertain(faces)
        faces.probs[~faces.readable] = np.nan
        if detecting:  # predicted boxes wobble around the face; only detected boxes tell a still picture
            self.static.update(faces, crops, time_s)
        return FrameResult(time_s, self._smooth_readable(faces, time_s), self._detected, detecting, quality)

    def _smooth_readable(self, faces: Detections, time_s: float) -> Detections:
        """Only faces that were read enter (and change) the smoothing state; the rest stay without expression."""
        readable = faces.readable
        faces.probs[readable] = self.smoother.update(faces[readable], time_s).probs
        return faces
