"""The files an analysis writes, and how they appear only when complete.

Everything is written into a hidden staging folder inside the output folder
and moved into place at the end; a failed or cancelled analysis removes the
staging folder, so no half-written file ever sits under a final name. A
process killed outright cannot clean up; its staging folder is swept by the
next analysis into the same folder once it is a day old (a younger one may
belong to an analysis still running).
"""

from __future__ import annotations

import csv
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from fer.engine.detections import Detections
from fer.labels import CLASSES

ANNOTATED_VIDEO = "annotated.mp4"
DETECTIONS_CSV = "detections.csv"
TIMELINE_CSV = "timeline.csv"
SUMMARY_JSON = "summary.json"
OUTPUT_NAMES = (ANNOTATED_VIDEO, DETECTIONS_CSV, TIMELINE_CSV, SUMMARY_JSON)
DETECTION_COLUMNS = [
    "frame", "time_s", "track_id", "x", "y", "w", "h", "score", *[f"p_{c}" for c in CLASSES], "label",
    "readable", "unreadable_reason",
]  # fmt: skip


# Appended once the session is over (rows are written as frames are analysed, before it is known): 1 on the rows
# of a track taken for a picture and left out of every number, so scripts see what the report leaves out.
STATIC_COLUMN = "static"

STALE_STAGING_S = 24 * 3600


class OutputError(OSError):
    """The output folder cannot be written."""


@contextmanager
def staged_outputs(out_dir: Path) -> Iterator[Path]:
    """Yield a staging folder; on success its files replace ``out_dir``'s outputs, on failure it vanishes."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _sweep_stale_staging(out_dir)
        staging = out_dir / f".partial-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
    except OSError as error:
        raise OutputError(f"cannot write to {out_dir}: {error.strerror or error}") from error
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    # summary.json marks a complete result: the old one goes first and the new one comes last, so a
    # failure while moving never leaves a summary beside outputs of another run.
    (out_dir / SUMMARY_JSON).unlink(missing_ok=True)
    for name in OUTPUT_NAMES:  # an output this run did not make must not linger from an older run
        if not (staging / name).exists():
            (out_dir / name).unlink(missing_ok=True)
    for produced in sorted(staging.iterdir(), key=lambda path: path.name == SUMMARY_JSON):
        produced.replace(out_dir / produced.name)
    staging.rmdir()


def _sweep_stale_staging(out_dir: Path) -> None:
    cutoff = time.time() - STALE_STAGING_S
    for leftover in out_dir.glob(".partial-*"):
        if leftover.is_dir() and leftover.stat().st_mtime < cutoff:
            shutil.rmtree(leftover, ignore_errors=True)


class DetectionsCsv:
    """One row per face per analysed frame; the box in source pixels. A face that could not be read has empty
    probabilities and label, ``readable`` 0 and the reason."""

    def __init__(self, handle: TextIO) -> None:
        self._writer = csv.writer(handle)
        self._writer.writerow(DETECTION_COLUMNS)

    def write(self, frame_index: int, time_s: float, faces: Detections, scale: float = 1.0) -> None:
        """``scale``: image pixels per source pixel of the frame analysed; boxes are written in source pixels."""
        xywh = (np.column_stack([faces.xyxy[:, :2], faces.wh]).astype(np.float64) / scale).round(1)
        probabilities = faces.probs.astype(np.float64).round(4)
        rows = zip(
            faces.track_id, xywh, faces.score, probabilities, faces.labels, faces.unreadable_reasons, strict=True
        )
        for track_id, box, score, probs, label, reason in rows:
            self._writer.writerow(
                [
                    frame_index,
                    round(time_s, 4),
                    int(track_id),
                    *box.tolist(),
                    round(float(score), 3),
                    *(["" if np.isnan(p) else p for p in probs.tolist()]),
                    label,
                    0 if reason else 1,
                    reason,
                ]
            )


def mark_static_rows(path: Path, static_ids: set[int]) -> None:
    """Rewrite detections.csv at ``path`` with the ``static`` column, a row at a time (memory stays flat)."""
    marked = path.with_name(path.name + ".marking")
    track = DETECTION_COLUMNS.index("track_id")
    static = {str(track_id) for track_id in static_ids}
    with path.open(newline="") as source, marked.open("w", newline="") as target:
        rows, writer = csv.reader(source), csv.writer(target)
        writer.writerow([*next(rows), STATIC_COLUMN])
        for row in rows:
            writer.writerow([*row, 1 if row[track] in static else 0])
    marked.replace(path)


def write_timeline_csv(timeline: pd.DataFrame, path: Path) -> None:
    timeline.round(4).to_csv(path, index=False)


def write_summary_json(summary: dict, path: Path) -> None:
    path.write_text(json.dumps(summary, indent=2, default=_json_default) + "\n")


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
