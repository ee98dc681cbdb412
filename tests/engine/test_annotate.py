import cv2
import numpy as np
import pytest

from fer.engine.annotate import CLASS_COLORS, UNREAD_COLOR, FaceAnnotator, blur_faces
from fer.engine.detections import Detections
from fer.labels import CLASSES, NUM_CLASSES

BOX = [60, 80, 140, 160]  # its blur region (square grown by a quarter per side) is x 40-160, y 60-180


def _checkerboard(height: int = 240, width: int = 320) -> np.ndarray:
    """Colour frame full of the highest frequencies, which blurring must remove."""
    rows, cols = np.mgrid[0:height, 0:width]
    board = np.where((rows // 2 + cols // 2) % 2 == 0, 40, 215).astype(np.uint8)
    return np.dstack([board, board // 2 + 60, 255 - board])


def _faces(boxes: list[list[int]], label: str | None = "happy", track_id: int = 1) -> Detections:
    probs = np.full((len(boxes), NUM_CLASSES), np.nan if label is None else 0.0)
    if label is not None:
        probs[:, CLASSES.index(label)] = 0.8
    return Detections(xyxy=boxes, score=np.ones(len(boxes)), track_id=[track_id] * len(boxes), probs=probs)


def _sharpness(image: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


@pytest.mark.parametrize("label", CLASSES)
def test_box_outline_is_drawn_in_the_class_colour_on_a_copy(label: str) -> None:
    frame = np.full((240, 320, 3), 100, np.uint8)
    original = frame.copy()
    annotated = FaceAnnotator().annotate(frame, _faces([BOX], label))
    np.testing.assert_array_equal(frame, original)  # input untouched
    x1, y1, x2, y2 = BOX
    for y, x in [(120, x1), (120, x2), (y2, 100), (y1, 130)]:
        assert tuple(annotated[y, x]) == CLASS_COLORS[label]
    np.testing.assert_array_equal(
        annotated[y1 + 5 : y2 - 5, x1 + 5 : x2 - 5], original[y1 + 5 : y2 - 5, x1 + 5 : x2 - 5]
    )
    tag = annotated[y1 - 12 : y1, x1 : x1 + 40].reshape(-1, 3)
    assert (tag == CLASS_COLORS[label]).all(axis=1).sum() > 100  # the label's filled tag above the box


def test_label_moves_inside_a_box_touching_the_frame_top() -> None:
    frame = np.full((240, 320, 3), 100, np.uint8)
    annotated = FaceAnnotator().annotate(frame, _faces([[60, 0, 140, 80]], "sad"))
    tag = annotated[1:12, 61:100].reshape(-1, 3)
    assert (tag == CLASS_COLORS["sad"]).all(axis=1).sum() > 100


def test_faces_without_an_expression_get_a_thin_grey_box_and_no_label() -> None:
    frame = np.full((240, 320, 3), 100, np.uint8)
    annotated = FaceAnnotator().annotate(frame, _faces([BOX], label=None, track_id=7))
    x1, y1, x2, y2 = BOX
    assert tuple(annotated[120, x1]) == UNREAD_COLOR and tuple(annotated[120, x1 + 1]) == (100, 100, 100)
    outside = np.ones(frame.shape[:2], bool)
    outside[y1 : y2 + 1, x1 : x2 + 1] = False
    assert (annotated[outside] == 100).all()  # no label plate anywhere


def test_no_detections_leave_the_frame_as_is() -> None:
    frame = _checkerboard()
    annotated = FaceAnnotator(blur=True).annotate(frame, Detections())
    np.testing.assert_array_equal(annotated, frame)
    assert annotated is not frame


def test_blur_smooths_the_face_region_and_nothing_far_away() -> None:
    frame = _checkerboard()
    annotated = FaceAnnotator(blur=True).annotate(frame, _faces([BOX]))
    inner = (slice(90, 150), slice(70, 130))  # inside the box, clear of outline and label
    assert _sharpness(annotated[inner]) < 0.01 * _sharpness(frame[inner])
    assert annotated[inner].std() < 0.2 * frame[inner].std()
    np.testing.assert_array_equal(annotated[185:], frame[185:])
    np.testing.assert_array_equal(annotated[:, 200:], frame[:, 200:])


@pytest.mark.parametrize("blur", [True, False])
def test_extra_blur_boxes_are_blurred_only_when_blurring(blur: bool) -> None:
    frame = _checkerboard()
    extra = np.array([[220, 40, 280, 100]], np.float32)
    annotated = FaceAnnotator(blur=blur).annotate(frame, _faces([BOX]), blur_boxes=extra)
    region = (slice(50, 90), slice(230, 270))
    if blur:
        assert _sharpness(annotated[region]) < 0.01 * _sharpness(frame[region])
    else:
        np.testing.assert_array_equal(annotated[region], frame[region])


def test_blur_faces_works_in_place_and_tolerates_boxes_over_the_edges() -> None:
    frame = _checkerboard()
    original = frame.copy()
    boxes = np.array([[-30, -30, 30, 30], [300, 200, 340, 260], [-20, 100, -3, 110]], np.float32)
    assert blur_faces(frame, boxes) is frame
    assert _sharpness(frame[:20, :20]) < 0.01 * _sharpness(original[:20, :20])
    assert _sharpness(frame[225:, 305:]) < 0.01 * _sharpness(original[225:, 305:])
    assert not np.array_equal(frame[100:110, :2], original[100:110, :2])  # even a sliver of a face is covered
    np.testing.assert_array_equal(frame[90:120, 5:10], original[90:120, 5:10])


def test_thicker_lines_on_large_frames() -> None:
    frame = np.full((1080, 1920, 3), 100, np.uint8)
    box = [600, 400, 900, 700]
    annotated = FaceAnnotator().annotate(frame, _faces([box], "angry"))
    row = annotated[550, 590:610]
    assert (row == CLASS_COLORS["angry"]).all(axis=1).sum() >= 4  # round(1920 / 500) = 4 px thick


def test_label_plates_never_cover_each_other_and_tiny_faces_get_a_marker() -> None:
    frame = np.full((240, 320, 3), 100, np.uint8)
    side_by_side = [[40, 100, 100, 160], [80, 110, 140, 170], [150, 100, 165, 115]]  # overlapping, then a 15 px face
    faces = _faces(side_by_side, "sad")
    faces.track_id = np.array([1, 2, 3])
    annotated = FaceAnnotator().annotate(frame, faces)
    plates = [plate for plate in _colour_regions(annotated, CLASS_COLORS["sad"]) if plate[2] * plate[3] > 120]
    for index, a in enumerate(plates):
        for b in plates[index + 1 :]:
            assert not (a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])
    tiny = annotated[100:116, 150:166].reshape(-1, 3)
    assert (tiny == CLASS_COLORS["sad"]).all(axis=1).sum() < 120  # a small marker, not a plate wider than the face
    assert not (annotated[84:100, 150:240] == CLASS_COLORS["sad"]).all(axis=2).any(axis=0).sum() > 20


def _colour_regions(image: np.ndarray, color: tuple[int, int, int]) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (x, y, w, h) of the filled regions of exactly ``color`` (plates, not thin outlines)."""
    mask = (image == color).all(axis=2).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    return [tuple(stats[i, :4]) for i in range(1, count)]
