"""Notable moments (fer.app.moments): sustained changes over every expression group, never noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fer.app.moments import notable_moments, window_seconds
from fer.engine.aggregate import SHARE_COLUMNS
from fer.labels import CLASSES


def timeline(labels_per_second: list[np.ndarray]) -> pd.DataFrame:
    """A timeline from each second's class label per face read (the shares the aggregator would give)."""
    rows = []
    for second, labels in enumerate(labels_per_second):
        counts = np.bincount(labels, minlength=len(CLASSES)) if len(labels) else np.zeros(len(CLASSES))
        shares = counts / len(labels) if len(labels) else np.full(len(CLASSES), np.nan)
        rows.append([float(second), len(labels), len(labels), *shares])
    return pd.DataFrame(rows, columns=["time_s", "faces", "faces_readable", *SHARE_COLUMNS])


def steps(faces: int, seconds: int, before: str, after: str, at: int, seed: int = 0) -> pd.DataFrame:
    """``faces`` faces reading ``before`` (80 %, else neutral), then ``after`` from second ``at`` on."""
    rng = np.random.default_rng(seed)
    neutral = CLASSES.index("neutral")
    per_second = []
    for second in range(seconds):
        main = CLASSES.index(before if second < at else after)
        per_second.append(np.where(rng.random(faces) < 0.8, main, neutral))
    return timeline(per_second)


def test_a_rise_of_negative_expressions_in_a_class_is_a_moment_in_percentage_points() -> None:
    moments = notable_moments(steps(20, 600, "neutral", "sad", at=300))
    assert len(moments) == 1, moments
    moment = moments.iloc[0]
    assert abs(moment["time_s"] - 300) <= 5 and moment["time"] in (
        "4:55",
        "4:56",
        "4:57",
        "4:58",
        "4:59",
        "5:00",
        "5:01",
        "5:02",
        "5:03",
        "5:04",
        "5:05",
    )
    assert moment["group"] == "negative" and moment["change_pp"] == pytest.approx(80, abs=5)
    assert "Negative expressions rose from 0% to 8" in moment["description"]
    assert "percentage points" in moment["description"] and "neutral expressions fell" in moment["description"]


def test_a_mostly_sad_session_still_has_its_moments() -> None:
    """The old moments only followed happy faces: a session that was 90 % sad had none."""
    moments = notable_moments(steps(10, 600, "sad", "surprise", at=400))
    assert len(moments) == 1 and abs(moments.iloc[0]["time_s"] - 400) <= 5
    assert "Negative expressions fell from 8" in moments.iloc[0]["description"]
    assert "surprised expressions rose from 0% to" in moments.iloc[0]["description"]


@pytest.mark.parametrize("faces", [1, 30])
def test_noise_is_not_a_moment(faces: int) -> None:
    rng = np.random.default_rng(faces)
    happy, neutral = CLASSES.index("happy"), CLASSES.index("neutral")
    noisy = timeline([np.where(rng.random(faces) < 0.4, happy, neutral) for _ in range(900)])
    assert notable_moments(noisy).empty


def test_one_face_changing_for_good_is_a_moment() -> None:
    assert len(notable_moments(steps(1, 300, "neutral", "happy", at=150))) == 1


def test_a_short_flicker_is_not_sustained() -> None:
    flicker = steps(20, 600, "neutral", "neutral", at=0)
    blip = steps(20, 3, "happy", "happy", at=0)
    flicker.iloc[300:303, 3:] = blip.iloc[:, 3:].to_numpy()
    assert notable_moments(flicker).empty


def test_nothing_read_nothing_found() -> None:
    assert notable_moments(timeline([np.array([], int)] * 100)).empty
    assert notable_moments(timeline([])).empty


def test_the_window_grows_with_the_lesson_within_bounds() -> None:
    assert window_seconds(60) == 10 and window_seconds(600) == 60 and window_seconds(6 * 3600) == 120
