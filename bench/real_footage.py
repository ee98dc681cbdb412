"""Are the readings right on real footage? The engine's detections against eye labels of the shared clips.

    python bench/real_footage.py [--profile fast --profile accurate] [--videos ../shared/videos]

``bench/truth/real_footage.csv`` (see bench/truth/README.md) labels the faces of the six shared clips 8 times a
second: where the face is (a box) and what a person sees: positive, neutral, surprise or negative, ``unclear``
(visible, but no group can be told), ``not_visible`` (turned away, blurred, hidden or too small to tell) or
``picture`` (a poster or photo, no person). Each clip is analysed as the app does (``analyze_video``, default
settings, the profile given), and every row of its detections.csv takes the label of the nearest labelled box at
the labelled time nearest to it (at most 0.07 s away; centres at most half the labelled side apart). A row counts
as read when it was read and not left out as a picture (``static``).

Printed per clip and profile: the rows with a clear group (positive, neutral, surprise, negative); coverage, the
share of those read; precision, the share of the read ones whose group is the labelled one; the share of read rows
read as negative (where no labelled face shows a negative expression, that is all wrong); rows read where nobody
can be read (``not_visible``) or nobody is (``picture``); and rows no label matched. Then a confusion of groups
(labelled x read) over all clips.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from fer.app.report import GROUPS
from fer.engine.analyze import analyze_video
from fer.engine.classifier import EmotionClassifier
from fer.engine.outputs import DETECTIONS_CSV
from fer.engine.pipeline import AnalysisSettings
from fer.labels import CLASSES

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "bench" / "truth" / "real_footage.csv"
CLEAR = tuple(GROUPS)  # positive, neutral, surprise, negative
MAX_GAP_S = 0.07  # the labels are at 8 frames a second (see bench/truth/README.md)
MAX_DISTANCE = 0.5  # centres at most half the labelled face's side apart
GROUP_OF_CLASS = {name: group for group, members in GROUPS.items() for name in members}


def centre_distance(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """How far one xywh box's centre is from the centre of each of ``boxes`` (xywh), in their sides: a 15 px face
    in a shaking camera moves by more than IoU forgives, but not by half its side."""
    centre = box[:2] + box[2:] / 2
    centres = boxes[:, :2] + boxes[:, 2:] / 2
    return np.hypot(*(centres - centre).T) / np.maximum(boxes[:, 2:].max(axis=1), 1.0)


def labelled(detections: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """``detections`` with ``truth_group`` (None where no label matched) and ``read_group`` (None where not read)."""
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


def clip_numbers(rows: pd.DataFrame) -> dict:
    clear = rows[rows["truth_group"].isin(CLEAR)]
    read = clear[clear["read_group"].notna()]
    all_read = rows[rows["read_group"].notna()]
    return {
        "clear rows": len(clear),
        "coverage": len(read) / len(clear) if len(clear) else np.nan,
        "precision": (read["read_group"] == read["truth_group"]).mean() if len(read) else np.nan,
        "read as negative": (all_read["read_group"] == "negative").mean() if len(all_read) else np.nan,
        "read, not visible": int((all_read["truth_group"] == "not_visible").sum()),
        "read, a picture": int((all_read["truth_group"] == "picture").sum()),
        "unlabelled": int(rows["truth_group"].isna().sum()),
    }


def analysed(video: Path, profile: str, classifier: EmotionClassifier) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as out:
        analyze_video(video, out, AnalysisSettings(profile=profile), write_video=False, classifier=classifier)
        return pd.read_csv(Path(out) / DETECTIONS_CSV)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--profile", action="append", choices=("fast", "accurate"))
    args = parser.parse_args()
    truth = pd.read_csv(TRUTH)
    print(
        "| clip | profile | clear rows | coverage | precision | read as negative | read, not visible | "
        "read, a picture | unlabelled |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for profile in args.profile or ["fast", "accurate"]:
        classifier = EmotionClassifier(profile=profile)
        every: list[pd.DataFrame] = []
        for clip, clip_truth in truth.groupby("clip", sort=True):
            rows = labelled(analysed(args.videos / clip, profile, classifier), clip_truth)
            every.append(rows)
            numbers = clip_numbers(rows)
            print(f"| {clip} | {profile} | " + " | ".join(_cell(v) for v in numbers.values()) + " |")
        pooled = pd.concat(every)
        print(f"| **all** | {profile} | " + " | ".join(_cell(v) for v in clip_numbers(pooled).values()) + " |")
        read = pooled[pooled["read_group"].notna() & pooled["truth_group"].notna()]
        confusion = pd.crosstab(read["truth_group"], read["read_group"]).reindex(columns=list(CLEAR), fill_value=0)
        print(f"\nConfusion, {profile} (rows: labelled, columns: read):\n\n{confusion.to_string()}\n")


def _cell(value: float | int) -> str:
    if isinstance(value, float):
        return "–" if np.isnan(value) else f"{value:.0%}"
    return str(value)


if __name__ == "__main__":
    main()
