import cv2
import numpy as np
import pytest

from fer.engine.crops import DEFAULT_MARGIN, face_crops, square_boxes


def _gradient_frame(height: int = 60, width: int = 100) -> np.ndarray:
    """Gray frame whose pixel value encodes its position, so crops can be checked pixel by pixel."""
    rows, cols = np.mgrid[0:height, 0:width]
    return ((rows * 3 + cols * 2) % 256).astype(np.uint8)


@pytest.mark.parametrize(
    ("box", "margin", "expected"),
    [
        ([10, 20, 30, 40], 0.0, [10, 20, 30, 40]),  # already square
        ([10, 20, 30, 60], 0.0, [0, 20, 40, 60]),  # tall box widens around its centre
        ([10, 20, 50, 30], 0.0, [10, 5, 50, 45]),  # wide box grows taller
        ([10, 20, 30, 40], 0.5, [0, 10, 40, 50]),  # margin per side: side * (1 + 2 * margin)
        ([10, 20, 30, 60], 0.25, [-10, 10, 50, 70]),
    ],
)
def test_square_boxes_known_values(box: list[int], margin: float, expected: list[int]) -> None:
    np.testing.assert_array_equal(square_boxes(np.array([box]), margin), [expected])


def test_square_boxes_keep_centres_and_grow_by_margin() -> None:
    rng = np.random.default_rng(0)
    corners = rng.uniform(0, 500, size=(200, 2))
    boxes = np.hstack([corners, corners + rng.uniform(10, 120, size=(200, 2))])
    squares = square_boxes(boxes, DEFAULT_MARGIN)
    assert squares.dtype == np.int64 and squares.shape == (200, 4)
    np.testing.assert_allclose((squares[:, :2] + squares[:, 2:]) / 2, (boxes[:, :2] + boxes[:, 2:]) / 2, atol=1.0)
    expected_side = (boxes[:, 2:] - boxes[:, :2]).max(axis=1) * (1 + 2 * DEFAULT_MARGIN)
    np.testing.assert_allclose(squares[:, 2] - squares[:, 0], expected_side, atol=1.0)


def test_square_boxes_are_exactly_square_for_fractional_boxes() -> None:
    """Detector boxes are fractional; rounding each corner on its own must not make 61x60 "squares"."""
    rng = np.random.default_rng(1)
    corners = rng.uniform(0, 500, size=(200, 2))
    boxes = np.vstack([[10.2, 20.7, 50.6, 71.1], np.hstack([corners, corners + rng.uniform(10, 120, size=(200, 2))])])
    squares = square_boxes(boxes, DEFAULT_MARGIN)
    widths, heights = squares[:, 2] - squares[:, 0], squares[:, 3] - squares[:, 1]
    assert (widths == heights).all(), f"{(widths != heights).sum()} of {len(boxes)} boxes are not square"


def test_tiny_boxes_still_give_at_least_two_pixels() -> None:
    x1, y1, x2, y2 = square_boxes(np.array([[5, 5, 5, 5]]), 0.0)[0]
    assert x2 - x1 >= 2 and y2 - y1 >= 2


def test_crop_inside_the_frame_is_the_exact_square() -> None:
    frame = _gradient_frame()
    (crop,) = face_crops(frame, np.array([[20, 10, 40, 50]]), margin=0.0)  # -> square x 10..50, y 10..50
    np.testing.assert_array_equal(crop, frame[10:50, 10:50])


@pytest.mark.parametrize(
    "box",
    [
        [-10, -10, 20, 20],  # over the top-left corner
        [80, 40, 110, 70],  # over the bottom-right corner
        [-30, 10, 130, 50],  # wider than the frame
        [40, -5, 60, 15],  # over the top edge only
    ],
)
def test_crops_over_frame_edges_are_squares_filled_by_edge_replication(box: list[int]) -> None:
    frame = _gradient_frame()
    (x1, y1, x2, y2), (crop,) = square_boxes(np.array([box]), 0.0)[0], face_crops(frame, np.array([box]), 0.0)
    assert crop.shape == (y2 - y1, x2 - x1) and crop.shape[0] == crop.shape[1]
    rows = np.clip(np.arange(y1, y2), 0, frame.shape[0] - 1)
    cols = np.clip(np.arange(x1, x2), 0, frame.shape[1] - 1)
    np.testing.assert_array_equal(crop, frame[np.ix_(rows, cols)])


@pytest.mark.parametrize("box", [[200, 10, 240, 50], [10, -100, 50, -60]], ids=["right", "above"])
def test_box_entirely_outside_the_frame_still_gives_the_expected_square(box: list[int]) -> None:
    """Tracker predictions can drift past the frame edge; the crop must keep the box's size."""
    (crop,) = face_crops(_gradient_frame(), np.array([box]), margin=0.0)
    assert crop.shape == (40, 40)


@pytest.mark.parametrize("color", [True, False], ids=["bgr", "gray"])
def test_color_and_gray_frames_give_2d_uint8_crops(color: bool) -> None:
    gray = _gradient_frame()
    frame = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR) if color else gray
    crops = face_crops(frame, np.array([[10, 10, 30, 30], [50, 20, 70, 50]]))
    assert len(crops) == 2
    for crop in crops:
        assert crop.ndim == 2 and crop.dtype == np.uint8
    np.testing.assert_array_equal(crops[0], face_crops(gray, np.array([[10, 10, 30, 30]]))[0])


def test_no_boxes_give_no_crops() -> None:
    assert face_crops(_gradient_frame(), np.empty((0, 4))) == []
