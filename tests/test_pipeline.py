"""FrameAnalyzer: the per-frame engine shared by video analysis and the Live page."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from fer.pipeline import AnalysisSettings, FrameAnalyzer
from fer.smoothing import SmoothingConfig
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
        assert len(result.crops) == 1 and result.crops[0].shape[0] == result.crops[0].shape[1]


def test_tracked_boxes_follow_the_face_on_frames_the_detector_skips(classifier) -> None:
    analyzer = FrameAnalyzer(classifier, AnalysisSettings(detect_every=3))
    results = [analyzer.process(frame, i / 10) for i, frame in enumerate(_frames(9))]
    skipped = [r for r in results[1:] if len(r.detected) == 0]
    assert len(skipped) >= 4
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


def test_blur_boxes_cover_faces_and_untracked_detections(classifier) -> None:
    analyzer = FrameAnalyzer(classifier)
    first = analyzer.process(_frames(1)[0], 0.0)
    assert len(first.faces) == 0 and len(first.detected) == 1  # not yet tracked, but still to be blurred
    assert first.blur_boxes.shape == (1, 4)


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
