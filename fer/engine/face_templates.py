"""Known faces found again by how they look, between whole-frame looks: a fraction of a CenterFace window's cost.

A detection round between whole-frame looks only has to say where each known face went. Most faces a fraction of a
second later still look as they did: one found by its picture (normalised cross-correlation of a small grey copy of
it, searched for half a face side around where the tracker expects it) costs well under a millisecond, where a
CenterFace window costs 20-45 ms at 1080p. A face whose best match is weak (it turned, laughed, was covered or is
gone) is left to a CenterFace window, and its picture is taken again from what the window finds. Every whole-frame
look takes every face's picture anew, so matching never drifts for more than ``full_every_s``.

A followed box keeps the size CenterFace gave it and moves with the picture, to a fraction of a pixel; its
landmarks move with it. Its score stays the one CenterFace gave, which is what the tracker reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fer.engine.detections import Detections, box_iou

PICTURE_PX = 32  # a face's picture is this wide or high (its longer side): enough to place it, cheap to search
SEARCH_SIDES = 0.5  # searched this many face sides around the expected box
SAME_FACE_IOU = 0.2  # an expected box belongs to the picture whose box overlaps it most, at least this much


@dataclass
class FacePicture:
    box: np.ndarray  # xyxy, frame pixels: where the face was last found
    pixels: np.ndarray  # float32 grey copy of the box's whole pixels, scaled by ``scale``
    scale: tuple[float, float]  # picture pixels per frame pixel, across and down (as the copy was resized)
    corner: np.ndarray  # (x, y) of the copied pixels' top-left corner minus the box's (<= 0, sub-pixel)
    score: float
    landmarks: np.ndarray  # (5, 2) frame pixels


class TemplateFollower:
    """``remember(frame, faces)`` after CenterFace found faces; ``follow(frame, expected)`` on the rounds between."""

    def __init__(self, min_match: float = 0.6) -> None:
        self.min_match = min_match
        self.reset()

    def reset(self) -> None:
        self._pictures: list[FacePicture] = []

    def remember(self, frame: np.ndarray, faces: Detections, replace_all: bool = False) -> None:
        """Take the pictures of ``faces`` (all of them after a whole-frame look: ``replace_all``)."""
        if replace_all:
            self._pictures = []
        for box, score, landmarks in zip(faces.xyxy, faces.score, faces.landmarks, strict=True):
            picture = _picture(frame, box, float(score), landmarks)
            if picture is not None:
                self._pictures.append(picture)

    def follow(self, frame: np.ndarray, expected: np.ndarray) -> tuple[Detections, np.ndarray]:
        """The faces of ``expected`` (xyxy boxes where the tracker expects known faces) found by their pictures,
        and the rows of ``expected`` that were not (no picture of that face, or a weak match)."""
        if not self._pictures or len(expected) == 0:
            return Detections(), np.arange(len(expected))
        overlap = box_iou(expected, np.array([picture.box for picture in self._pictures], np.float32))
        found: list[FacePicture] = []
        missed: list[int] = []
        taken: set[int] = set()
        for row, best in enumerate(overlap.argmax(axis=1)):
            moved = None
            if overlap[row, best] >= SAME_FACE_IOU and int(best) not in taken:
                taken.add(int(best))
                moved = _found_again(frame, self._pictures[best], expected[row], self.min_match)
            if moved is None:
                missed.append(row)
            else:
                self._pictures[best] = moved
                found.append(moved)
        faces = Detections(
            xyxy=np.array([p.box for p in found], np.float32).reshape(-1, 4),
            score=np.array([p.score for p in found], np.float32),
            landmarks=np.array([p.landmarks for p in found], np.float32).reshape(-1, 5, 2),
        )
        return faces, np.asarray(missed, np.int64)


def _picture(frame: np.ndarray, box: np.ndarray, score: float, landmarks: np.ndarray) -> FacePicture | None:
    """The face's picture: the whole pixels inside ``box``, grey, scaled so the longer side is ``PICTURE_PX``."""
    height, width = frame.shape[:2]
    left, top = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    right, bottom = min(int(np.ceil(box[2])), width), min(int(np.ceil(box[3])), height)
    if right - left < 4 or bottom - top < 4:
        return None
    longer = max(right - left, bottom - top)
    size = (max(round((right - left) * PICTURE_PX / longer), 4), max(round((bottom - top) * PICTURE_PX / longer), 4))
    pixels = cv2.resize(_grey(frame[top:bottom, left:right]), size, interpolation=cv2.INTER_AREA)
    scale = (size[0] / (right - left), size[1] / (bottom - top))
    corner = np.array([left - box[0], top - box[1]], np.float32)
    return FacePicture(box.astype(np.float32), pixels.astype(np.float32), scale, corner, score, landmarks)


def _found_again(frame: np.ndarray, picture: FacePicture, expected: np.ndarray, min_match: float) -> FacePicture | None:
    """``picture`` moved to where it matches best near ``expected``; None where the best match is under
    ``min_match`` (normalised cross-correlation) or the search region is too small to move in."""
    height, width = frame.shape[:2]
    side = float(max(expected[2] - expected[0], expected[3] - expected[1], 1.0))
    left = max(int(expected[0] - SEARCH_SIDES * side), 0)
    top = max(int(expected[1] - SEARCH_SIDES * side), 0)
    right = min(int(np.ceil(expected[2] + SEARCH_SIDES * side)), width)
    bottom = min(int(np.ceil(expected[3] + SEARCH_SIDES * side)), height)
    across, down = picture.scale
    if (right - left) * across < picture.pixels.shape[1] + 2 or (bottom - top) * down < picture.pixels.shape[0] + 2:
        return None
    # resized by the picture's own factors, so a picture pixel and a region pixel cover the same frame pixels
    region = cv2.resize(_grey(frame[top:bottom, left:right]), None, fx=across, fy=down, interpolation=cv2.INTER_AREA)
    match = cv2.matchTemplate(region.astype(np.float32), picture.pixels, cv2.TM_CCOEFF_NORMED)
    _, best, _, (column, row) = cv2.minMaxLoc(match)
    if best < min_match:
        return None
    x = left + (column + _vertex(match[row, column - 1 : column + 2])) / across
    y = top + (row + _vertex(match[row - 1 : row + 2, column])) / down
    shift = np.array([x, y], np.float32) - picture.corner - picture.box[:2]
    return FacePicture(
        picture.box + np.tile(shift, 2), picture.pixels, picture.scale, picture.corner, picture.score,
        picture.landmarks + shift,
    )  # fmt: skip


def _vertex(values: np.ndarray) -> float:
    """Sub-pixel position of a peak from its value and its two neighbours (a parabola's vertex), 0 at an edge."""
    if len(values) != 3:
        return 0.0
    curvature = float(values[0] - 2 * values[1] + values[2])
    return 0.5 * float(values[0] - values[2]) / curvature if curvature < 0 else 0.0


def _grey(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
