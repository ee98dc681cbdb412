import numpy as np
import pytest

from fer.engine.detections import UNTRACKED, Detections, box_iou
from fer.labels import CLASSES, NUM_CLASSES


def _three_faces() -> Detections:
    probs = np.zeros((3, NUM_CLASSES), np.float32)
    probs[0, CLASSES.index("happy")] = 0.9
    probs[1, CLASSES.index("sad")] = 0.6
    probs[2, CLASSES.index("neutral")] = 0.7
    return Detections(
        xyxy=[[0, 0, 10, 20], [5, 5, 15, 15], [20, 0, 40, 10]],
        score=[0.9, 0.4, 0.7],
        track_id=[3, 1, 2],
        probs=probs,
    )


def test_empty_detections_have_zero_rows_of_the_right_shapes() -> None:
    empty = Detections()
    assert len(empty) == 0
    assert empty.xyxy.shape == (0, 4) and empty.score.shape == (0,)
    assert empty.track_id.shape == (0,) and empty.probs.shape == (0, NUM_CLASSES)
    assert empty.class_index.shape == (0,) and empty.labels == [] and empty.confidence.shape == (0,)


def test_boxes_alone_get_nan_probs_and_untracked_ids() -> None:
    faces = Detections(xyxy=[[1, 2, 3, 4], [5, 6, 9, 12]], score=[0.5, 0.8])
    assert faces.xyxy.dtype == np.float32 and faces.track_id.dtype == np.int64
    np.testing.assert_array_equal(faces.track_id, [UNTRACKED, UNTRACKED])
    assert faces.probs.shape == (2, NUM_CLASSES) and np.isnan(faces.probs).all()
    np.testing.assert_array_equal(faces.wh, [[2, 2], [4, 6]])


def test_faces_without_an_expression_have_no_class_label_or_confidence() -> None:
    probs = np.full((3, NUM_CLASSES), 0.01, np.float32)
    probs[:, CLASSES.index("sad")] = 0.94
    probs[0] = np.nan  # not classified
    faces = Detections(xyxy=[[0, 0, 1, 1]] * 3, score=[0.5] * 3, probs=probs, unreadable=[0, 0, 1])
    np.testing.assert_array_equal(faces.class_index, [-1, CLASSES.index("sad"), -1])  # never class 0 by default
    assert faces.labels == ["", "sad", ""]
    np.testing.assert_allclose(faces.confidence, [0.0, 0.94, 0.0])
    np.testing.assert_array_equal(faces.readable, [True, True, False])
    assert faces.unreadable_reasons == ["", "", "small"]


def test_selecting_rows_keeps_landmarks_and_readability() -> None:
    landmarks = np.arange(2 * 5 * 2, dtype=np.float32).reshape(2, 5, 2)
    faces = Detections(xyxy=[[0, 0, 9, 9], [5, 5, 20, 20]], score=[0.5, 0.9], landmarks=landmarks, unreadable=[2, 0])
    second = faces[[1]]
    np.testing.assert_array_equal(second.landmarks[0], landmarks[1])
    assert second.unreadable_reasons == [""] and faces[[0]].unreadable_reasons == ["pose"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"score": [0.5, 0.6]},
        {"score": [0.5], "track_id": [1, 2]},
        {"score": [0.5], "probs": np.zeros((2, NUM_CLASSES))},
    ],
    ids=["score", "track_id", "probs"],
)
def test_mismatched_row_counts_are_rejected(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="one row per face"):
        Detections(xyxy=[[0, 0, 1, 1]], **kwargs)


def test_probs_with_wrong_class_count_are_rejected() -> None:
    with pytest.raises(ValueError):
        Detections(xyxy=[[0, 0, 1, 1]], score=[0.5], probs=np.zeros((1, NUM_CLASSES - 1)))


@pytest.mark.parametrize(
    "index",
    [np.array([False, True, True]), [1, 2], slice(1, 3)],
    ids=["mask", "list", "slice"],
)
def test_indexing_selects_rows_in_every_array(index) -> None:
    picked = _three_faces()[index]
    assert len(picked) == 2
    np.testing.assert_array_equal(picked.track_id, [1, 2])
    np.testing.assert_array_equal(picked.score, np.float32([0.4, 0.7]))
    np.testing.assert_array_equal(picked.xyxy[0], [5, 5, 15, 15])
    assert picked.labels == ["sad", "neutral"]


def test_indexing_with_empty_list_gives_empty_detections() -> None:
    picked = _three_faces()[[]]
    assert len(picked) == 0 and picked.probs.shape == (0, NUM_CLASSES)


def test_class_index_labels_and_confidence_follow_the_most_probable_class() -> None:
    faces = _three_faces()
    np.testing.assert_array_equal(faces.class_index, [CLASSES.index(c) for c in ("happy", "sad", "neutral")])
    assert faces.labels == ["happy", "sad", "neutral"]
    np.testing.assert_allclose(faces.confidence, [0.9, 0.6, 0.7], rtol=1e-6)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([0, 0, 10, 10], [0, 0, 10, 10], 1.0),
        ([0, 0, 10, 10], [20, 20, 30, 30], 0.0),
        ([0, 0, 10, 10], [10, 0, 20, 10], 0.0),  # touching edges
        ([0, 0, 10, 10], [5, 0, 15, 10], 1 / 3),  # half of each overlaps
        ([0, 0, 10, 10], [0, 0, 5, 10], 0.5),  # one inside the other
        ([0, 0, 0, 0], [0, 0, 0, 0], 0.0),  # degenerate boxes: no division by zero
    ],
)
def test_box_iou_known_values(a: list[int], b: list[int], expected: float) -> None:
    iou = box_iou(np.array([a]), np.array([b]))
    assert iou.shape == (1, 1)
    assert iou[0, 0] == pytest.approx(expected, abs=1e-6)


def test_box_iou_is_pairwise_and_symmetric() -> None:
    a = np.array([[0, 0, 10, 10], [5, 0, 15, 10]])
    b = np.array([[0, 0, 10, 10], [100, 100, 110, 110], [5, 0, 15, 10]])
    iou = box_iou(a, b)
    assert iou.shape == (2, 3)
    np.testing.assert_allclose(iou, [[1, 0, 1 / 3], [1 / 3, 0, 1]], atol=1e-6)
    np.testing.assert_allclose(box_iou(b, a), iou.T, atol=1e-6)
    assert box_iou(np.empty((0, 4)), b).shape == (0, 3)
