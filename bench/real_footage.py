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
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from fer.engine.classifier import EmotionClassifier
from fer.training.footage_truth import CLEAR, FootageScores, analysed_rows, labelled

ROOT = Path(__file__).resolve().parents[1]
TRUTH = ROOT / "bench" / "truth" / "real_footage.csv"


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
            rows = labelled(analysed_rows(args.videos / clip, profile, classifier), clip_truth)
            every.append(rows)
            print(f"| {clip} | {profile} | {_cells(FootageScores.of(rows))} |")
        pooled = pd.concat(every)
        print(f"| **all** | {profile} | {_cells(FootageScores.of(pooled))} |")
        read = pooled[pooled["read_group"].notna() & pooled["truth_group"].notna()]
        confusion = pd.crosstab(read["truth_group"], read["read_group"]).reindex(columns=list(CLEAR), fill_value=0)
        print(f"\nConfusion, {profile} (rows: labelled, columns: read):\n\n{confusion.to_string()}\n")


def _cells(scores: FootageScores) -> str:
    values = dataclasses.astuple(scores)
    return " | ".join(("–" if np.isnan(v) else f"{v:.0%}") if isinstance(v, float) else str(v) for v in values)


if __name__ == "__main__":
    main()
