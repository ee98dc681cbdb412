"""The annotated video of an analysed recording, made on request (a background job) instead of during the analysis.

The analysis reads a few frames a second and stores the faces it saw; the report plays the recording itself with
the boxes drawn in the browser. Someone who wants a file (a staff meeting, an archive) asks for one: every frame of
the recording is decoded again, the stored faces are drawn at their place at that moment (each box moved part of
the way to its next analysed position, as the report's player does; a face not seen for ``HOLD_S`` is gone), and
the result is encoded with the recording's sound. With ``blur``, every face the detector saw is blurred: the
tracked faces and the detection boxes the analysis kept for this (``blur_boxes.csv``), so a face that was never
tracked is hidden too.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from fer.engine.annotate import FaceAnnotator
from fer.engine.detections import Detections
from fer.engine.video_io import H264Writer, VideoReader
from fer.labels import CLASSES

HOLD_S = 1.0  # an analysed frame's faces stay this long at most (a face gone stays gone)
PROB_COLUMNS = [f"p_{name}" for name in CLASSES]
FACE_COLUMNS = ["time_s", "track_id", "x", "y", "w", "h", "readable", *PROB_COLUMNS]  # what a FaceTimeline reads
BLUR_BOXES_CSV = "blur_boxes.csv"  # every detection box per analysed frame, kept only when faces are blurred


class FaceTimeline:
    """Faces per analysed frame, from face rows (``time_s, track_id, x, y, w, h, readable, p_<class>...``, boxes
    in source pixels); ``at(time_s)`` gives the faces to draw at any moment."""

    def __init__(self, rows: pd.DataFrame) -> None:
        rows = rows.sort_values(["time_s", "track_id"], kind="stable")
        self.times, starts = np.unique(rows["time_s"].to_numpy(float), return_index=True)
        self._starts = np.append(starts, len(rows))
        xywh = rows[["x", "y", "w", "h"]].to_numpy(np.float32)
        self._xyxy = np.column_stack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]])
        self._track = rows["track_id"].to_numpy(np.int64)
        self._probs = rows[PROB_COLUMNS].to_numpy(np.float32) if set(PROB_COLUMNS) <= set(rows) else None
        readable = rows["readable"].fillna(1).to_numpy() if "readable" in rows else np.ones(len(rows))
        self._unreadable = np.where(readable != 0, 0, 1).astype(np.int8)

    def flat(self) -> dict:
        """Every analysed frame's faces as plain lists, for the report's player (which draws them the way ``at``
        gives them): the frames' times, where each frame's rows start, and per face (track, x, y, w, h, class
        index or -1 where not read, confidence in percent), boxes in source pixels, rounded."""
        faces = self._detections(slice(None), self._xyxy)
        xyxy = self._xyxy.round()
        table = np.column_stack(
            [self._track, xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2], faces.class_index, (faces.confidence * 100).round()]
        ).astype(np.int64)
        return {
            "classes": list(CLASSES),
            "times": self.times.round(3).tolist(),
            "starts": self._starts.tolist(),
            "rows": table.ravel().tolist(),
        }

    def _detections(self, rows: slice, xyxy: np.ndarray) -> Detections:
        """The faces of ``rows`` at ``xyxy``, with their expressions (none where not read)."""
        n = len(xyxy)
        probs = self._probs[rows] if self._probs is not None else np.full((n, len(CLASSES)), np.nan, np.float32)
        return Detections(xyxy, np.ones(n), self._track[rows], probs, unreadable=self._unreadable[rows])

    def _frame(self, index: int) -> slice:
        return slice(self._starts[index], self._starts[index + 1])

    def at(self, time_s: float) -> Detections:
        index = int(np.searchsorted(self.times, time_s + 1e-6, side="right")) - 1
        if index < 0 or time_s - self.times[index] > HOLD_S:
            return Detections()
        rows = self._frame(index)
        xyxy = self._xyxy[rows].copy()
        if index + 1 < len(self.times) and self.times[index + 1] - self.times[index] <= HOLD_S:
            share = (time_s - self.times[index]) / (self.times[index + 1] - self.times[index])
            later = self._frame(index + 1)
            position = {int(t): k for k, t in enumerate(self._track[later])}
            for k, track in enumerate(self._track[rows]):
                if (match := position.get(int(track))) is not None:
                    xyxy[k] += (self._xyxy[later][match] - xyxy[k]) * share
        return self._detections(rows, xyxy)


def read_blur_boxes(path: Path) -> FaceTimeline | None:
    """The detection boxes an analysis kept for blurring, or None when it kept none."""
    if not path.is_file():
        return None
    rows = pd.read_csv(path)
    return FaceTimeline(rows.assign(track_id=np.arange(len(rows)), readable=0))


class BlurBoxesCsv:
    """Every detection box of each analysed frame (source pixels), written while faces are to be blurred."""

    def __init__(self, handle: object) -> None:
        self._writer = csv.writer(handle)
        self._writer.writerow(["time_s", "x", "y", "w", "h"])

    def write(self, time_s: float, xyxy: np.ndarray, scale: float = 1.0) -> None:
        for x1, y1, x2, y2 in (np.asarray(xyxy, np.float64) / scale).round(1).tolist():
            self._writer.writerow([round(time_s, 4), x1, y1, round(x2 - x1, 1), round(y2 - y1, 1)])


def render_annotated(
    recording: Path,
    faces: FaceTimeline,
    target: Path,
    *,
    blur: bool = False,
    blur_boxes: FaceTimeline | None = None,
    max_side: int | None = 1920,
    on_progress: Callable[[float, float], None] | None = None,
) -> list[str]:
    """Write ``target`` (H.264 with the recording's sound, every frame); returns why it has no sound, if so.
    ``on_progress(video_time_s, duration_s)`` follows it (raise from it to stop: nothing is left)."""
    annotator = FaceAnnotator(blur=blur)
    with VideoReader(recording) as video:
        info = video.info
        with H264Writer(target, info.fps, sound_from=recording, sound_start_s=video.start_s) as writer:
            for frame in video.frames(max_side=max_side):
                shown = faces.at(frame.time_s)
                shown.xyxy = shown.xyxy * frame.scale
                hidden = blur_boxes.at(frame.time_s).xyxy * frame.scale if blur and blur_boxes is not None else None
                writer.write(annotator.annotate(frame.image, shown, hidden), frame.time_s)
                if on_progress is not None:
                    on_progress(frame.time_s, info.duration_s)
        return writer.sound_warnings
