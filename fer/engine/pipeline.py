"""The per-frame engine shared by video-file analysis and live webcam analysis.

camera motion (every track follows the picture's shift) -> detect (every ``detect_every``-th frame; the tracker
predicts boxes in between) -> track -> crop -> readability (size, pose, blur) -> classify the readable faces in
one batch -> uncertain ones set aside -> flag static faces -> smooth the readable ones.
It holds per-session state (tracks, smoothing) and needs no Streamlit.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace

import cv2
import numpy as np

from fer.engine.camera_motion import CameraMotion
from fer.engine.classifier import PROFILES, EmotionClassifier
from fer.engine.crops import DEFAULT_MARGIN, face_crops
from fer.engine.detection import CenterFaceDetector, FaceDetector
from fer.engine.detections import Detections
from fer.engine.face_following import FaceFollowingDetector, FollowingConfig
from fer.engine.observations import ObservedFrame
from fer.engine.preprocess import INPUT_SIZE, to_gray48
from fer.engine.readability import ReadabilityConfig, ReadabilityFilter
from fer.engine.smoothing import ProbabilitySmoother, SmoothingConfig
from fer.engine.static_faces import StaticFaceDetector
from fer.engine.tracking import FaceTracker, TrackerConfig

DEFAULT_RATE = 8.0  # analysed frames a second of a recording (chosen with bench/rate_agreement.py)


@dataclass(frozen=True)
class AnalysisSettings:
    """Everything that changes what the engine finds; stored with each session."""

    # A recording is analysed at this many frames a second (the first frame at or after each 1/rate s): a lesson
    # report needs a few readings a second per face, not the camera's 30. None: every ``every``-th frame.
    rate: float | None = DEFAULT_RATE
    every: int = 1  # with rate None: analyse every N-th frame of a video
    threshold: float = 0.3  # minimum face score to keep a track; a new face needs threshold + 0.2
    detect_every: int = 3  # run the detector on every K-th analysed frame, track in between
    detector_max_side: int | None = None  # shrink frames to this longer side for detection; None = native
    # with detector_max_side None and no blur: look at the whole frame this often, in between only around the
    # tracked faces (fer.engine.face_following); None: every detection round looks at the whole frame
    full_detect_every_s: float | None = 2.0
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
        if self.rate is not None and not 0 < self.rate <= 120:
            raise ValueError(f"rate must be between 0 and 120 frames a second, got {self.rate}")
        if self.rate is not None and self.every != 1:
            raise ValueError("give a rate or every N-th frame, not both")
        if self.full_detect_every_s is not None and self.full_detect_every_s <= 0:
            raise ValueError("full_detect_every_s must be positive")
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

    def sample_interval_s(self, fps: float) -> float:
        """Seconds between two analysed frames of a video at ``fps`` (on average)."""
        return 1 / min(self.rate, fps) if self.rate is not None else self.every / fps

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> AnalysisSettings:
        """The settings ``to_dict`` gave (e.g. a queued job's), checked again."""
        values = {"rate": None, **values}  # settings stored before the rate existed analysed every N-th frame
        nested = {"smoothing": SmoothingConfig(**values["smoothing"]), "tracker": TrackerConfig(**values["tracker"])}
        return cls(**{**values, **nested})


def settings_detector(settings: AnalysisSettings, threads: int | None = None) -> CenterFaceDetector:
    """The face detector ``settings`` ask for, on ``threads`` onnxruntime threads (default: every core)."""
    return CenterFaceDetector(threshold=settings.threshold, max_side=settings.detector_max_side, threads=threads)


def _face_following(detector: FaceDetector, settings: AnalysisSettings) -> FaceFollowingDetector | None:
    """Detection around the tracked faces between whole-frame looks, where the settings allow it: not with a fixed
    detector size, nor when every face must be blurred (a face that walks in between two whole-frame looks would
    show unblurred until the next)."""
    if settings.detector_max_side is not None or settings.full_detect_every_s is None or settings.blur:
        return None
    if not isinstance(detector, CenterFaceDetector):
        return None
    return FaceFollowingDetector(detector, FollowingConfig(full_every_s=settings.full_detect_every_s))


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
        self.following = _face_following(self.detector, self.settings)
        self.timings = {"detect": 0.0, "classify": 0.0}  # seconds spent, for the analysis' stage times
        start_score = min(self.settings.threshold + 0.2, 0.95)
        self.tracker = FaceTracker(replace(self.settings.tracker, high_score=start_score))
        self.camera = CameraMotion()
        self.smoother = ProbabilitySmoother(self.settings.smoothing)
        self.static = StaticFaceDetector()
        self.readability = ReadabilityFilter(readability)
        self._frames = 0
        self._detected = Detections()

    def reset(self) -> None:
        self.tracker.reset()
        self.camera.reset()
        self.smoother.reset()
        self.static.reset()
        self.readability.reset()
        if self.following is not None:
            self.following.reset()
        self._frames = 0
        self._detected = Detections()

    def process(self, image: np.ndarray, time_s: float) -> FrameResult:
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)  # once: motion and crops read it
        self.tracker.shift(self.camera.update(grey))
        if self.camera.changed and self.following is not None:
            self.following.look_whole()  # a cut or a jump: the faces may all be new
            self._frames = 0  # and detect on this frame
        detecting = self._frames % self.settings.detect_every == 0
        self._frames += 1
        if detecting:
            started = time.perf_counter()
            if self.following is not None:
                self._detected = self.following.detect(image, time_s, self.tracker.predicted_boxes(time_s))
            else:
                self._detected = self.detector.detect(image)
            self.timings["detect"] += time.perf_counter() - started
            faces = self.tracker.update(self._detected, time_s)
        else:
            faces = self.tracker.predict(time_s)
            height, width = image.shape[:2]
            faces.xyxy = faces.xyxy.clip(0, [width, height, width, height]).astype(np.float32)
        crops = face_crops(grey, faces.xyxy, self.settings.crop_margin)
        # each crop to 48x48 once: readability measures it and the classifier reads the same array
        faces48 = (
            np.stack([to_gray48(crop) for crop in crops]) if crops else np.empty((0, INPUT_SIZE, INPUT_SIZE), np.uint8)
        )
        quality = self.readability.assess(faces, faces48, self._crop_px(faces))
        probs = np.full(faces.probs.shape, np.nan, np.float32)
        started = time.perf_counter()
        probs[faces.readable] = self.classifier.predict(faces48[faces.readable])
        self.timings["classify"] += time.perf_counter() - started
        faces.probs = probs
        self._set_aside_unread(faces)
        if detecting:  # predicted boxes wobble around the face; only detected boxes tell a still picture
            self.static.update(faces, crops, time_s)
        return FrameResult(time_s, self._smooth_readable(faces, time_s), self._detected, detecting, quality)

    def process_observed(self, frame: ObservedFrame, time_s: float) -> FrameResult:
        """A frame the browser analysed (Live's browser mode): its faces were detected, measured and read there,
        on every frame; from tracking on, the same stages as ``process``. No picture reaches the server, so camera
        motion is not followed and no track is judged a still picture."""
        self._detected = frame.detections
        faces, rows = self.tracker.update_rows(frame.detections, time_s)
        quality = self.readability.assess_signals(faces, frame.signals[rows], self._crop_px(faces))
        self._set_aside_unread(faces)
        return FrameResult(time_s, self._smooth_readable(faces, time_s), frame.detections, True, quality)

    def _crop_px(self, faces: Detections) -> np.ndarray:
        """The side of each face's square crop, in source pixels (what the size rule judges)."""
        return faces.wh.max(axis=1) * (1 + 2 * self.settings.crop_margin) if len(faces) else np.empty(0)

    def _set_aside_unread(self, faces: Detections) -> None:
        """Readable faces under the uncertain cut become unread; no unread face keeps probabilities."""
        self.readability.mark_uncertain(faces)
        faces.probs[~faces.readable] = np.nan

    def _smooth_readable(self, faces: Detections, time_s: float) -> Detections:
        """Only faces that were read enter (and change) the smoothing state; the rest stay without expression.

        What is shown and stored is the smoothed reading, so the uncertain cut applies to it as well: one rule for
        what a label means, no drawn or exported probability under the cut (a face read confidently frame by frame
        but as a different expression each time was drawn as "neutral 0.27")."""
        readable = faces.readable
        faces.probs[readable] = self.smoother.update(faces[readable], time_s).probs
        self._set_aside_unread(faces)
        return faces
