"""Scoring against eye labels, and the engine's readings on the eye-labelled shared clips kept above floors.

The floors are set a few points under what ``bench/real_footage.py`` measured (2026-12-04, both profiles: coverage
79-81 %, precision 70-71 %, 23 % of the rows read negative where nobody shows a negative expression), so a change
that reads real faces worse fails here. The issue's own targets (at most 10 % negative, 90 % of the clear frontal
smiling face read) are not met yet: they are strict xfails, which fail once met, so the floors get raised then.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fer.labels import CLASSES
from fer.training.footage_truth import FootageScores, labelled
from tests.conftest import VIDEOS, needs_videos

TRUTH = Path(__file__).resolve().parents[2] / "bench" / "truth" / "real_footage.csv"


def _row(time_s: float, x: float, top: str | None, readable: int = 1, static: int = 0) -> dict:
    probabilities = {f"p_{name}": (0.9 if name == top else 0.1 / 6) if top else np.nan for name in CLASSES}
    return {"time_s": time_s, "x": x, "y": 10.0, "w": 20.0, "h": 20.0, "readable": readable, "static": static,
            **probabilities}  # fmt: skip


def test_rows_take_the_nearest_label_in_time_and_place() -> None:
    truth = pd.DataFrame(
        [
            {"time_s": 1.0, "x": 0.0, "y": 10.0, "w": 20.0, "h": 20.0, "group": "neutral"},
            {"time_s": 1.0, "x": 100.0, "y": 10.0, "w": 20.0, "h": 20.0, "group": "positive"},
            {"time_s": 1.125, "x": 100.0, "y": 10.0, "w": 20.0, "h": 20.0, "group": "picture"},
        ]
    )
    rows = pd.DataFrame(
        [
            _row(1.02, 3.0, "neutral"),  # the left face, right
            _row(0.98, 97.0, "angry"),  # the right face, read negative where it is positive
            _row(1.12, 101.0, "happy", static=1),  # a picture, left out: not read
            _row(1.0, 50.0, "happy"),  # between the faces, 2.5 sides from either: no label
            _row(2.0, 0.0, "happy"),  # no label that late
            _row(1.0, 0.0, None, readable=0),  # present, not read
        ]
    )
    got = labelled(rows, truth)
    assert got["truth_group"].fillna("-").tolist() == ["neutral", "positive", "picture", "-", "-", "neutral"]
    assert got["read_group"].fillna("-").tolist() == ["neutral", "negative", "-", "positive", "positive", "-"]
    scores = FootageScores.of(got)
    assert (scores.clear_rows, scores.coverage, scores.precision) == (3, 2 / 3, 0.5)
    assert scores.read_negative == 0.25 and scores.read_picture == 0 and scores.unlabelled == 2


@pytest.fixture(scope="module")
def scored() -> dict[str, pd.DataFrame]:
    """Every labelled clip analysed at the app's defaults with each profile: rows with their labels."""
    from fer.engine.classifier import EmotionClassifier
    from fer.training.footage_truth import analysed_rows

    truth = pd.read_csv(TRUTH)
    result = {}
    for profile in ("fast", "accurate"):
        classifier = EmotionClassifier(profile=profile)
        clips = [
            labelled(analysed_rows(VIDEOS / clip, profile, classifier), clip_truth).assign(clip=clip)
            for clip, clip_truth in truth.groupby("clip", sort=True)
        ]
        result[profile] = pd.concat(clips)
    return result


@needs_videos
@pytest.mark.parametrize("profile", ["fast", "accurate"])
def test_readings_on_real_footage_stay_above_the_measured_floors(scored, profile: str) -> None:
    rows = scored[profile]
    pooled = FootageScores.of(rows)
    assert pooled.clear_rows >= 650  # the labels still meet the engine's rows
    assert pooled.coverage >= 0.74 and pooled.precision >= 0.65 and pooled.read_negative <= 0.28, pooled
    assert pooled.read_picture == 0  # the poster is never read
    assert pooled.read_not_visible <= 12
    closeup = FootageScores.of(rows[rows["clip"] == "school_closeup.mp4"])
    assert closeup.precision >= 0.85, closeup  # calm children looking down are read calm


@needs_videos
@pytest.mark.xfail(strict=True, reason="issue 23's target, not met: 23 % of the rows read on calm faces are negative")
@pytest.mark.parametrize("profile", ["fast", "accurate"])
def test_calm_and_smiling_faces_are_rarely_read_negative(scored, profile: str) -> None:
    assert FootageScores.of(scored[profile]).read_negative <= 0.10


@needs_videos
@pytest.mark.xfail(strict=True, reason="issue 23's target, not met: 74 % of the smiling face's rows read (accurate)")
def test_a_clear_frontal_face_is_read_with_the_accurate_profile(scored) -> None:
    rows = scored["accurate"]
    assert FootageScores.of(rows[rows["clip"] == "smiling_woman.mp4"]).coverage >= 0.90
