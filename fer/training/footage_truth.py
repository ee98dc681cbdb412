"""The engine's face rows scored against eye labels of real footage (``bench/truth/real_footage.csv``).

A label says, for a face at a time, what a person sees: an expression group (positive, neutral, surprise,
negative), ``unclear``, ``not_visible`` or ``picture``. Each row of an analysis' detections.csv takes the label of
the nearest labelled box at the labelled time nearest to it. Shared by ``bench/real_footage.py`` (the table in
the model card) and the test that keeps those numbers above floors in CI.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fer.engine.aggregate import GROUPS
from fer.engine.analyze import analyze_video
from fer.engine.classifier import EmotionClassifier
from fer.engine.outputs import DETECTIONS_CSV
from fer.engine.pipeline import AnalysisSettings
from fer.labels import CLASSES

CLEAR = tuple(GROUPS)  # positive, neutral, surprise, negative
MAX_GAP_S = 0.07  # the labels are at 8 frames a second (see bench/truth/README.md)
MAX_DISTANCE = 0.5  # centres at most half the labelled face's side apart
GROUP_OF_CLASS = {name: group for group, members in GROUPS.items() for name in members}


@dataclass(frozen=True)
class FootageScores:
    clear_rows: int  # rows labelled with an expression group
    coverage: float  # share of those read (NaN without any)
    precision: float  # share of the read ones whose group is the labelled one
    read_negative: float  # share of all rows read that were read as negative
    read_not_visible: int  # rows read where no expression can be seen
    read_picture: int  # rows read on a poster or photo
    unlabelled: int  # rows no label matched

    @classmethod
    def of(cls, rows: pd.DataFrame) -> FootageScores:
        """The scores of ``labelled`` rows (one clip's, or several pooled)."""
        clear = rows[rows["truth_group"].isin(CLEAR)]
        read = clear[clear["read_group"].notna()]
        all_read = rows[rows["read_group"].notna()]
        return cls(
            clear_rows=len(clear),
            coverage=len(read) / len(clear) if len(clear) else np.nan,
            precision=float((read["read_group"] == read["truth_group"]).mean()) if len(read) else np.nan,
            read_negative=float((all_read["read_group"] == "negative").mean()) if len(all_read) else np.nan,
            read_not_visible=int((all_read["truth_group"] == "not_visible").sum()),
            read_picture=int((all_read["truth_group"] == "picture").sum()),
            unlabelled=int(rows["truth_group"].isna().sum()),
        )


def centre_distance(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """How far one xywh box's centre is from the centre of each of ``boxes`` (xywh), in their sides: a 15 px face
    in a shaking camera moves by more than IoU forgives, but not by half its side."""
    centre = box[:2] + box[2:] / 2
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    return np.hypot(*(centres - centre).T) / np.maximum(boxes[:, 2:].max(axis=1), 1.0)


def labelled(detections: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """``detections`` (detections.csv rows) with ``truth_group`` (None where no label matched) and ``read_group``
    (None where not read, or left out as a picture)."""
    times = np.sort(truth["time_s"].unique())
    groups: list[str | None] = []
    for row in detections.itertuples():
        nearest = times[np.abs(times - row.time_s).argmin()]
        if abs(nearest - row.time_s) > MAX_GAP_S:
            groups.append(None)
            continue
        candidates = truth[truth["time_s"] == nearest]
        boxes = candidates[["x", "y", "w", "h"]].to_numpy(float)
        distance = centre_distance(np.array([row.x, row.y, row.w, row.h]), boxes)
        groups.append(candidates["group"].iloc[int(distance.argmin())] if distance.min() <= MAX_DISTANCE else None)
    probabilities = detections[[f"p_{name}" for name in CLASSES]].to_numpy(float)
    read = (detections["readable"] == 1) & (detections["static"] == 0)
    top = np.nan_to_num(probabilities, nan=-1.0).argmax(axis=1)
    read_groups = [GROUP_OF_CLASS[CLASSES[i]] if is_read else None for i, is_read in zip(top, read, strict=True)]
    return detections.assign(truth_group=groups, read_group=read_groups)


def analysed_rows(video: Path, profile: str, classifier: EmotionClassifier) -> pd.DataFrame:
    """detections.csv of ``video`` analysed as the app does (default settings, ``profile``)."""
    with tempfile.TemporaryDirectory() as out:
        analyze_video(video, out, AnalysisSettings(profile=profile), write_video=False, classifier=classifier)
        return pd.read_csv(Path(out) / DETECTIONS_CSV)
