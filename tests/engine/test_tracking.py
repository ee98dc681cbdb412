import numpy as np
import pytest

from fer.engine.detections import Detections
from fer.engine.tracking import FaceTracker, TrackerConfig

FPS = 30


def _faces(*boxes: list[float], score: float = 0.9) -> Detections:
    return Detections(xyxy=np.array(boxes, np.float32).reshape(-1, 4), score=np.full(len(boxes), score))


def _box(x: float, y: float = 100.0, size: float = 40.0) -> list[float]:
    return [x, y, x + size, y + size]


def _ids(result: Detections) -> list[int]:
    return result.track_id.tolist()


def test_a_steadily_moving_face_keeps_one_id() -> None:
    tracker = FaceTracker()
    ids = [_ids(tracker.update(_faces(_box(50 + 6 * i)), i / FPS)) for i in range(30)]
    assert ids[0] == []  # not confirmed yet
    assert ids[1:] == [[1]] * 29


@pytest.mark.parametrize("min_hits", [1, 2, 4])
def test_ids_appear_only_after_min_hits_matches(min_hits: int) -> None:
    tracker = FaceTracker(TrackerConfig(min_hits=min_hits))
    ids = [_ids(tracker.update(_faces(_box(100)), i / FPS)) for i in range(6)]
    assert ids == [[]] * (min_hits - 1) + [[1]] * (7 - min_hits)


def test_output_rows_carry_the_matched_detection() -> None:
    tracker = FaceTracker()
    tracker.update(_faces(_box(100), _box(300)), 0.0)
    result = tracker.update(_faces(_box(302), _box(101)), 1 / FPS)  # same faces, listed in the other order
    assert _ids(result) == [1, 2]  # sorted by id
    np.testing.assert_array_equal(result.xyxy, np.float32([_box(101), _box(302)]))


def test_two_faces_crossing_paths_keep_their_ids() -> None:
    """Fast enough that matching on last positions alone would swap them: the velocity prediction must not."""
    tracker = FaceTracker()
    steps, speed = 40, 12
    for i in range(steps):
        left = _box(20 + speed * i, y=100)  # moves right
        right = _box(20 + speed * (steps - 1 - i), y=110)  # moves left, a quarter box lower: IoU 0.6 mid-way
        result = tracker.update(_faces(left, right), i / FPS)
        if i >= 1:
            assert _ids(result) == [1, 2]
            np.testing.assert_array_equal(result.xyxy, np.float32([left, right]))


@pytest.mark.parametrize(("gap_s", "same_id"), [(0.5, True), (0.95, True), (1.5, False), (3.0, False)])
def test_a_face_missing_for_a_while(gap_s: float, same_id: bool) -> None:
    tracker = FaceTracker(TrackerConfig(max_missing_s=1.0))
    for i in range(10):
        tracker.update(_faces(_box(100)), i / FPS)
    last = 9 / FPS
    for t in np.arange(last + 1 / FPS, last + gap_s - 1e-6, 1 / FPS):  # detection runs, the face is not found
        tracker.update(Detections(), float(t))
    back = tracker.update(_faces(_box(100)), last + gap_s)
    again = tracker.update(_faces(_box(100)), last + gap_s + 1 / FPS)
    if same_id:
        assert _ids(back) == _ids(again) == [1]
    else:
        assert _ids(back) == []  # a new track that must be confirmed again
        assert _ids(again) == [2]


def test_low_score_detections_never_start_a_track() -> None:
    tracker = FaceTracker(TrackerConfig(high_score=0.5))
    for i in range(10):
        assert len(tracker.update(_faces(_box(100), score=0.3), i / FPS)) == 0
    assert len(tracker.predict(10 / FPS)) == 0


def test_low_score_detections_continue_an_existing_track() -> None:
    tracker = FaceTracker(TrackerConfig(high_score=0.5))
    for i in range(3):
        tracker.update(_faces(_box(100 + 2 * i)), i / FPS)
    for i in range(3, 10):
        result = tracker.update(_faces(_box(100 + 2 * i), score=0.3), i / FPS)
        assert _ids(result) == [1]
        np.testing.assert_allclose(result.score, [0.3])


def test_predict_moves_boxes_by_their_velocity() -> None:
    tracker = FaceTracker()
    dt = 0.1
    for i in range(25):
        tracker.update(_faces(_box(100 + 3 * i)), i * dt)  # 30 px/s to the right
    last_box = np.array(_box(100 + 3 * 24))
    predicted = tracker.predict(24 * dt + 0.5)
    assert _ids(predicted) == [1]
    np.testing.assert_allclose(predicted.xyxy[0], last_box + np.array([15, 0, 15, 0]), atol=0.01)
    np.testing.assert_allclose(tracker.predict(24 * dt).xyxy[0], last_box, atol=1e-4)


def test_predict_returns_only_confirmed_tracks_seen_last() -> None:
    tracker = FaceTracker()
    for i in range(5):
        tracker.update(_faces(_box(100), _box(300)), i / FPS)  # two confirmed tracks
    tracker.update(_faces(_box(100), _box(500)), 5 / FPS)  # #2 unseen, a third face appears (1 hit)
    predicted = tracker.predict(6 / FPS)
    assert _ids(predicted) == [1]
    np.testing.assert_allclose(predicted.xyxy[0], _box(100), atol=1e-4)
    assert np.isnan(predicted.probs).all()


def test_predict_before_any_update_is_empty() -> None:
    assert len(FaceTracker().predict(1.0)) == 0


def test_reset_restarts_ids_at_one() -> None:
    tracker = FaceTracker()
    for i in range(3):
        tracker.update(_faces(_box(100), _box(300)), i / FPS)
    tracker.reset()
    tracker.update(_faces(_box(600)), 10.0)
    assert _ids(tracker.update(_faces(_box(600)), 10.0 + 1 / FPS)) == [1]


def test_sparse_detection_rounds_longer_than_max_missing_keep_the_track() -> None:
    tracker = FaceTracker(TrackerConfig(max_missing_s=1.0))
    ids = [_ids(tracker.update(_faces(_box(100 + 2 * i)), 1.5 * i)) for i in range(4)]  # one round per 1.5 s
    assert ids == [[], [1], [1], [1]]


def test_predict_leaves_out_faces_missed_in_the_last_detection_round() -> None:
    tracker = FaceTracker()
    for i in range(3):
        tracker.update(_faces(_box(100)), i / FPS)
    assert _ids(tracker.predict(3.5 / FPS)) == [1]
    tracker.update(Detections(), 4 / FPS)  # the detector ran and did not find the face
    assert len(tracker.predict(4.5 / FPS)) == 0  # no ghost box drifting on


def test_a_camera_shift_moves_every_track_so_a_face_the_camera_passed_keeps_its_id() -> None:
    tracker = FaceTracker()
    for i in range(3):
        first = tracker.update(_faces(_box(100), _box(300)), i / FPS)
    # the camera swings 60 px in a third of a second: more than the faces are wide
    tracker.shift(np.array([60.0, 0.0], np.float32))
    moved = tracker.update(_faces(_box(160), _box(360)), 12 / FPS)
    assert _ids(moved) == _ids(first)
    np.testing.assert_allclose(tracker.predicted_boxes(12 / FPS), [_box(160), _box(360)], atol=1e-3)
