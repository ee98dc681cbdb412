import math

import numpy as np
import pytest

from fer.engine.detections import Detections
from fer.engine.smoothing import ProbabilitySmoother, SmoothingConfig
from fer.labels import NUM_CLASSES


def _onehot(index: int) -> np.ndarray:
    probs = np.zeros(NUM_CLASSES, np.float32)
    probs[index] = 1.0
    return probs


def _faces(track_probs: dict[int, np.ndarray]) -> Detections:
    n = len(track_probs)
    return Detections(
        xyxy=np.tile([0, 0, 10, 10], (n, 1)),
        score=np.ones(n),
        track_id=list(track_probs),
        probs=np.array(list(track_probs.values())),
    )


def _smooth(smoother: ProbabilitySmoother, probs: np.ndarray, time_s: float, track_id: int = 1) -> np.ndarray:
    return smoother.update(_faces({track_id: probs}), time_s).probs[0]


def test_first_observation_passes_through() -> None:
    np.testing.assert_allclose(_smooth(ProbabilitySmoother(), _onehot(2), 0.0), _onehot(2))


def test_ema_converges_to_a_constant_input() -> None:
    smoother = ProbabilitySmoother(SmoothingConfig("ema", seconds=0.5))
    _smooth(smoother, _onehot(0), 0.0)
    history = [_smooth(smoother, _onehot(3), i / 30)[3] for i in range(1, 91)]
    assert np.all(np.diff(history) > 0)  # steadily toward the new class
    assert 0.0 < history[0] < 0.1
    assert history[-1] == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("gap_s", [0.1, 0.2, 0.5, 1.5])
def test_ema_weight_depends_on_elapsed_seconds(gap_s: float) -> None:
    smoother = ProbabilitySmoother(SmoothingConfig("ema", seconds=0.5))
    _smooth(smoother, _onehot(0), 10.0)
    moved = _smooth(smoother, _onehot(3), 10.0 + gap_s)[3]
    assert moved == pytest.approx(1 - math.exp(-gap_s / 0.5), abs=1e-5)


def test_ema_twice_the_gap_moves_further() -> None:
    moved = []
    for gap_s in (0.1, 0.2):
        smoother = ProbabilitySmoother(SmoothingConfig("ema", seconds=0.5))
        _smooth(smoother, _onehot(0), 0.0)
        moved.append(_smooth(smoother, _onehot(3), gap_s)[3])
    assert moved[1] > moved[0] * 1.5


def test_window_averages_only_the_last_seconds() -> None:
    smoother = ProbabilitySmoother(SmoothingConfig("window", seconds=1.0))
    inputs = [_onehot(i) for i in range(4)]
    outputs = [_smooth(smoother, probs, t) for probs, t in zip(inputs, (0.0, 0.5, 1.0, 1.5), strict=True)]
    np.testing.assert_allclose(outputs[0], inputs[0])
    np.testing.assert_allclose(outputs[1], (inputs[0] + inputs[1]) / 2)
    np.testing.assert_allclose(outputs[2], (inputs[1] + inputs[2]) / 2)  # t=0 is a full second old: gone
    np.testing.assert_allclose(outputs[3], (inputs[2] + inputs[3]) / 2)


@pytest.mark.parametrize(
    "config", [SmoothingConfig("none", 0.5), SmoothingConfig("ema", 0.0), SmoothingConfig("window", 0)]
)
def test_disabled_smoothing_returns_input_unchanged(config: SmoothingConfig) -> None:
    smoother = ProbabilitySmoother(config)
    smoother.update(_faces({1: _onehot(0)}), 0.0)
    faces = _faces({1: _onehot(5)})
    out = smoother.update(faces, 0.1)
    np.testing.assert_array_equal(out.probs, faces.probs)
    np.testing.assert_array_equal(out.xyxy, faces.xyxy)


@pytest.mark.parametrize("method", ["ema", "window"])
def test_tracks_are_smoothed_independently(method: str) -> None:
    config = SmoothingConfig(method, seconds=0.5)
    together, alone = ProbabilitySmoother(config), {1: ProbabilitySmoother(config), 2: ProbabilitySmoother(config)}
    rng = np.random.default_rng(0)
    for i in range(12):
        probs = {1: rng.dirichlet(np.ones(NUM_CLASSES)), 2: rng.dirichlet(np.ones(NUM_CLASSES))}
        both = together.update(_faces(probs), i / 10)
        np.testing.assert_array_equal(both.track_id, [1, 2])
        for row, track_id in enumerate((1, 2)):
            single = alone[track_id].update(_faces({track_id: probs[track_id]}), i / 10).probs[0]
            np.testing.assert_allclose(both.probs[row], single, atol=1e-6)


def test_output_keeps_boxes_scores_and_ids() -> None:
    smoother = ProbabilitySmoother()
    faces = _faces({4: _onehot(1), 9: _onehot(2)})
    out = smoother.update(faces, 0.0)
    np.testing.assert_array_equal(out.track_id, [4, 9])
    np.testing.assert_array_equal(out.xyxy, faces.xyxy)
    np.testing.assert_array_equal(out.score, faces.score)


def test_empty_detections_pass_through() -> None:
    assert len(ProbabilitySmoother().update(Detections(), 1.0)) == 0


def test_reset_forgets_history() -> None:
    smoother = ProbabilitySmoother(SmoothingConfig("ema", seconds=0.5))
    _smooth(smoother, _onehot(0), 0.0)
    assert _smooth(smoother, _onehot(3), 0.1)[3] < 0.5
    smoother.reset()
    np.testing.assert_allclose(_smooth(smoother, _onehot(3), 0.2), _onehot(3))


@pytest.mark.parametrize(("method", "seconds"), [("median", 0.5), ("ema", -0.1), ("window", -1.0)])
def test_invalid_config_is_rejected(method: str, seconds: float) -> None:
    with pytest.raises(ValueError):
        SmoothingConfig(method, seconds)
