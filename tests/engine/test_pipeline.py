"""FrameAnalyzer: the per-frame engine shared by video analysis and the Live page."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fer.engine.detections import Detections
from fer.engine.pipeline import AnalysisSettings, FrameAnalyzer
from fer.engine.readability import UNCERTAIN
from fer.engine.smoothing import SmoothingConfig
from tests.conftest import portrait


def _frames(count: int) -> list[np.ndarray]:
    """The portrait sliding right over a grey 640x480 background."""
    face = portrait()[100:380, 130:400]
    frames = []
    for i in range(count):
        canvas = np.full((480, 640, 3), 90, np.uint8)
        canvas[100:380, 40 + 10 * i : 310 + 10 * i] = face
        frames.append(canvas)
    return frames


@pytest.mark.parametrize("detect_every", [1, 3])
def test_one_face_keeps_one_track_with_probabilities(classifier, detect_every: int) -> None:
    analyzer = FrameAnalyzer(classifier, AnalysisSettings(detect_every=detect_every))
    results = [analyzer.process(frame, i / 10) for i, frame in enumerate(_frames(9))]
    tracked = [r for r in results if len(r.faces)]
    # a track gets its id at its second detection, so the first `detect_every` frames show no face
    assert len(tracked) == 9 - detect_every
    assert {int(r.faces.track_id[0]) for r in tracked} == {1}
    for result in tracked:
        assert len(result.faces) == 1
        np.testing.assert_allclose(result.faces.probs.sum(axis=1), 1.0, atol=1e-4)


def test_tracked_boxes_follow_the_face_on_frames_the_detector_skips(classifier) -> None:
    analyzer = FrameAnalyzer(classifier, AnalysisSettings(detect_every=3))
    results = [analyzer.process(frame, i / 10) for i, frame in enumerate(_frames(9))]
    skipped = [r for r in results if not r.detector_ran]
    assert len(skipped) == 6
    lefts = [float(r.faces.xyxy[0, 0]) for r in results if len(r.faces)]
    assert all(b > a for a, b in itertools.pairwise(lefts))  # predicted boxes keep moving right


def test_smoothing_changes_probabilities_and_none_keeps_raw(classifier) -> None:
    frames = _frames(6)
    raw = FrameAnalyzer(classifier, AnalysisSettings(smoothing=SmoothingConfig(method="none")))
    smooth = FrameAnalyzer(classifier, AnalysisSettings(smoothing=SmoothingConfig(method="ema", seconds=5.0)))
    raw_probs = [raw.process(f, i / 10).faces.probs for i, f in enumerate(frames)]
    smooth_probs = [smooth.process(f, i / 10).faces.probs for i, f in enumerate(frames)]
    raw_spread = np.std([p[0] for p in raw_probs if len(p)], axis=0).sum()
    smooth_spread = np.std([p[0] for p in smooth_probs if len(p)], axis=0).sum()
    assert smooth_spread < raw_spread


class _EveryFrameAnother:
    """A classifier stand-in that reads every face confidently (0.9), but as another expression each frame."""

    profile = "fast"

    def __init__(self) -> None:
        self.calls = 0

    def warm_up(self) -> None:
        pass

    def predict(self, faces: np.ndarray) -> np.ndarray:
        probs = np.full((len(faces), 7), 0.1 / 6, np.float32)
        probs[:, self.calls % 5] = 0.9
        self.calls += 1
        return probs


def test_no_shown_reading_falls_under_the_uncertain_cut_after_smoothing() -> None:
    analyzer = FrameAnalyzer(_EveryFrameAnother(), AnalysisSettings(detect_every=1))
    cut = analyzer.readability.config.uncertain_below
    faces = [analyzer.process(frame, i / 10).faces for i, frame in enumerate(_frames(12))]
    shown = np.concatenate([f.probs[f.readable] for f in faces])
    assert len(shown) and (shown.max(axis=1) >= cut).all()  # every label drawn or stored is at least the cut
    later = np.concatenate([f.unreadable for f in faces[6:]])
    assert (later == UNCERTAIN).any()  # the smoothed mixture of many expressions is set aside as uncertain


def test_untracked_detections_stay_available_for_blurring_on_skipped_frames(classifier) -> None:
    analyzer = FrameAnalyzer(classifier, AnalysisSettings(detect_every=3))
    first, second = (analyzer.process(frame, i / 10) for i, frame in enumerate(_frames(2)))
    assert len(first.faces) == 0 and len(first.detected) == 1  # not yet tracked, but still to be blurred
    assert not second.detector_ran and len(second.detected) == 1


def test_predicted_boxes_stay_inside_the_frame(classifier) -> None:
    analyzer = FrameAnalyzer(classifier, AnalysisSettings(detect_every=5))
    frames = _frames(30)  # the face slides off the right edge
    boxes = [analyzer.process(frame, i / 10).faces.xyxy for i, frame in enumerate(frames)]
    every_box = np.vstack([b for b in boxes if len(b)])
    assert (every_box >= 0).all() and (every_box[:, [0, 2]] <= 640).all() and (every_box[:, [1, 3]] <= 480).all()


def test_reset_starts_track_ids_again(classifier) -> None:
    analyzer = FrameAnalyzer(classifier, AnalysisSettings(detect_every=1))
    frames = _frames(3)
    for i, frame in enumerate(frames):
        analyzer.process(frame, i / 10)
    analyzer.reset()
    ids = [analyzer.process(frame, i / 10).faces.track_id.tolist() for i, frame in enumerate(frames)]
    assert ids[-1] == [1]


@pytest.mark.parametrize(
    "kwargs", [{"every": 0}, {"detect_every": 0}, {"threshold": 1.5}, {"threshold": 0.0}, {"bin_s": 0}]
)
def test_invalid_settings_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        AnalysisSettings(**kwargs)


class _FixedDetector:
    """A FaceDetector that always reports one box with a given score."""

    def __init__(self, score: float) -> None:
        self.score = score

    def detect(self, frame: np.ndarray) -> Detections:
        return Detections(xyxy=[[200, 150, 300, 270]], score=[self.score])


@pytest.mark.parametrize(("threshold", "tracked"), [(0.2, True), (0.3, False)])
def test_new_faces_start_tracks_at_threshold_plus_0_2(classifier, threshold: float, tracked: bool) -> None:
    settings = AnalysisSettings(threshold=threshold, detect_every=1)
    analyzer = FrameAnalyzer(classifier, settings, detector=_FixedDetector(score=0.45))
    results = [analyzer.process(np.full((480, 640, 3), 90, np.uint8), i / 10) for i in range(4)]
    assert (len(results[-1].faces) == 1) is tracked
