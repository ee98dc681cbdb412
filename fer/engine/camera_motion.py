"""How far the picture moved since the last analysed frame: a hand-held or panning camera moves every face at once.

Between two detection rounds a phone camera can swing 20-60 px (measured on ``computer_lab.mp4``: up to 25 px
in a sixth of a second), more than a small face is wide, so a tracker that only predicts each face's own motion
loses them and starts new ids. The shift of the whole picture, found by phase correlation on a small grey copy
(about a millisecond), is applied to every track first, as BoT-SORT's camera-motion compensation does.
"""

from __future__ import annotations

import cv2
import numpy as np

WORK_WIDTH = 320  # the grey copy's width: enough for shifts of a few pixels, cheap at any resolution
MIN_RESPONSE = 0.3  # below this peak the correlation is unsure (a cut, a blur, a flat wall): no shift
# Grey-level histograms of two frames correlate below this across a cut: measured at 8 frames a second, the
# cuts of bench/lesson.py's lesson gave -0.46 to 0.6, and no frame pair of the shared clips below 0.86 (pans,
# soft focus and a call switching to its speaker included; the phase correlation's peak is no cut detector:
# it dropped below 0.3 on 36 of 90 frames of the soft-focus school_closeup.mp4).
CUT_CORRELATION = 0.7


class CameraMotion:
    """``update(image)`` for each analysed frame in order: the picture's (dx, dy) shift since the previous one, in
    the image's pixels, (0, 0) for the first frame or when unsure. ``changed`` tells whether the picture could
    not be matched with the previous one (a cut to another camera or scene, a jump): nothing known of the faces
    before holds. ``reset()`` between sessions."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._previous: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self._histogram: np.ndarray | None = None
        self.changed = False

    def update(self, image: np.ndarray) -> np.ndarray:
        scale = min(1.0, WORK_WIDTH / image.shape[1])
        size = (max(round(image.shape[1] * scale), 8), max(round(image.shape[0] * scale), 8))
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        previous, self._previous = self._previous, small
        histogram = cv2.calcHist([small], [0], None, [32], [0, 256])
        cv2.normalize(histogram, histogram)
        before, self._histogram = self._histogram, histogram
        self.changed = before is not None and cv2.compareHist(before, histogram, cv2.HISTCMP_CORREL) < CUT_CORRELATION
        if previous is None or previous.shape != small.shape:
            self._window = cv2.createHanningWindow(size, cv2.CV_32F)
            return np.zeros(2, np.float32)
        (dx, dy), response = cv2.phaseCorrelate(previous, small, self._window)
        if response < MIN_RESPONSE or self.changed:
            return np.zeros(2, np.float32)
        return np.array([dx, dy], np.float32) / scale
