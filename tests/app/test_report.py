"""Report tables (fer.app.report): smoothing, long format, dominant per bin, the track strip, notable moments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fer.app.report import (
    MAX_STRIP_COLUMNS,
    NOT_READ,
    PROB_COLUMNS,
    SHARE_COLUMNS,
    coverage,
    dominant_per_bin,
    faces_read,
    notable_moments,
    overall_shares,
    reading_summary,
    smoothed,
    track_cells,
)
from fer.labels import CLASSES

HAPPY = CLASSES.index("happy")


def timeline_frame(shares: np.ndarray, faces: np.ndarray | None = None, bin_s: float = 1.0) -> pd.DataFrame:
    """A timeline with the aggregator's columns; bins with 0 faces get NaN shares and means, as it does."""
    shares = np.asarray(shares, float)
    faces = np.ones(len(shares), int) if faces is None else np.asarray(faces, int)
    shares = np.where(faces[:, None] > 0, shares, np.nan)
    frame = pd.DataFrame({"time_s": np.arange(len(shares)) * bin_s, "faces": faces, "faces_readable": faces})
    frame[SHARE_COLUMNS] = shares
    frame[[f"mean_p_{c}" for c in CLASSES]] = shares
    return frame


def happy_timeline(happy: np.ndarray) -> pd.DataFrame:
    """Happy share as given, the rest on neutral."""
    shares = np.zeros((len(happy), len(CLASSES)))
    shares[:, HAPPY] = happy
    shares[:, CLASSES.index("neutral")] = 1 - np.asarray(happy)
    return timeline_frame(shares)


def face_rows(rows: list[tuple[float, int, str, float]]) -> pd.DataFrame:
    """(time_s, track_id, class, p) -> detections.csv-like rows whose probabilities put p on that class."""
    records = []
    for frame, (time_s, track_id, name, p) in enumerate(rows):
        probs = np.full(len(CLASSES), (1 - p) / (len(CLASSES) - 1))
        probs[CLASSES.index(name)] = p
        records.append([frame, time_s, track_id, 10.0, 10.0, 40.0, 40.0, 0.9, *probs])
    return pd.DataFrame(records, columns=["frame", "time_s", "track_id", "x", "y", "w", "h", "score", *PROB_COLUMNS])


def test_smoothing_window_one_leaves_the_timeline_as_it_is() -> None:
    timeline = happy_timeline(np.array([0.0, 1.0, 0.0, 1.0]))
    pd.testing.assert_frame_equal(smoothed(timeline, 1), timeline)


def test_smoothing_is_a_centred_moving_average_and_empty_bins_stay_empty() -> None:
    happy = np.array([0.0, 0.6, 0.0, np.nan, 0.3, 0.3])
    timeline = timeline_frame(np.outer(happy, np.eye(len(CLASSES))[HAPPY]), faces=[1, 1, 1, 0, 1, 1])
    result = smoothed(timeline, 3)
    # bin 3 had no faces: it stays NaN (not the mean of its neighbours); they average over bins with faces
    np.testing.assert_allclose(result["share_happy"], [0.3, 0.2, 0.3, np.nan, 0.3, 0.3])
    assert result.loc[3, SHARE_COLUMNS].isna().all() and result.loc[2, SHARE_COLUMNS].notna().all()
    assert timeline["share_happy"].iloc[1] == 0.6  # the input is not changed in place
    pd.testing.assert_series_equal(result["faces"], timeline["faces"])


def test_dominant_per_bin_skips_empty_bins_and_takes_the_largest_share() -> None:
    shares = np.zeros((3, len(CLASSES)))
    shares[0, [CLASSES.index("sad"), HAPPY]] = [0.6, 0.4]
    shares[2, [CLASSES.index("surprise"), HAPPY]] = [0.3, 0.7]
    result = dominant_per_bin(timeline_frame(shares, faces=[2, 0, 3]))
    assert result["time_s"].tolist() == [0.0, 2.0]
    assert result["expression"].tolist() == ["sad", "happy"]
    assert result["share"].tolist() == pytest.approx([0.6, 0.7])


def test_track_cells_average_probabilities_per_second_and_leave_static_faces_out() -> None:
    rows = face_rows(
        [
            (0.0, 1, "happy", 0.9),
            (0.5, 1, "sad", 0.5),  # happy still wins the 0-1 s mean
            (1.2, 1, "sad", 0.8),
            (0.3, 2, "angry", 0.7),
            (0.4, 9, "surprise", 0.99),  # a poster
        ]
    )
    cells = track_cells(rows, duration_s=2.0, static_ids={9})
    assert 9 not in set(cells["track_id"])
    got = {(r.track_id, r.start_s, r.end_s): (r.expression, r.confidence) for r in cells.itertuples()}
    happy_mean = (0.9 + 0.5 / 6) / 2
    assert got == {
        (1, 0.0, 1.0): ("happy", pytest.approx(happy_mean, abs=1e-3)),
        (1, 1.0, 2.0): ("sad", pytest.approx(0.8, abs=1e-3)),
        (2, 0.0, 1.0): ("angry", pytest.approx(0.7, abs=1e-3)),
    }


@pytest.mark.parametrize("duration", [601.0, 3600.0])
def test_long_sessions_get_wider_cells_so_there_are_at_most_the_column_limit(duration: float) -> None:
    times = np.arange(0, duration, 0.5)
    rows = face_rows([(t, 1, "neutral", 0.6) for t in times])
    cells = track_cells(rows, duration)
    widths = (cells["end_s"] - cells["start_s"]).unique()
    assert len(cells) <= MAX_STRIP_COLUMNS and len(widths) == 1 and widths[0] > 1.0
    assert cells["start_s"].min() == 0.0 and cells["end_s"].max() >= duration


def test_track_cells_with_only_static_faces_is_empty() -> None:
    cells = track_cells(face_rows([(0.0, 4, "happy", 0.9)]), 1.0, static_ids={4})
    assert cells.empty and list(cells.columns) == ["track_id", "start_s", "end_s", "expression", "confidence"]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        ({"class_shares": {"happy": 0.75, "sad": 0.25}}, {"happy": 0.75, "sad": 0.25}),
        ({"class_shares": None}, {}),
        ({}, {}),
    ],
)
def test_overall_shares_fills_missing_classes_with_zero(summary: dict, expected: dict) -> None:
    result = overall_shares(summary)
    assert result["expression"].tolist() == list(CLASSES)
    assert result["share"].tolist() == [expected.get(c, 0.0) for c in CLASSES]


@pytest.mark.parametrize(("low_to_high", "direction"), [(True, "rose"), (False, "fell")])
def test_a_step_in_happy_share_is_one_notable_moment(low_to_high: bool, direction: str) -> None:
    happy = np.where(np.arange(120) < 60, 0.1, 0.8)
    moments = notable_moments(happy_timeline(happy if low_to_high else happy[::-1].copy()))
    assert len(moments) == 1, moments
    moment = moments.iloc[0]
    assert abs(moment["time_s"] - 60) <= 2
    assert (moment["change"] > 0) == low_to_high and abs(moment["change"]) == pytest.approx(0.7, abs=0.05)
    assert direction in moment["description"]


@pytest.mark.parametrize(
    "happy",
    [np.full(120, 0.4), np.clip(0.4 + np.random.default_rng(1).normal(0, 0.05, 120), 0, 1)],
    ids=["flat", "small-noise"],
)
def test_no_notable_moment_without_a_real_change(happy: np.ndarray) -> None:
    assert notable_moments(happy_timeline(happy)).empty


def test_no_moments_in_an_empty_timeline() -> None:
    moments = notable_moments(happy_timeline(np.empty(0)))
    assert moments.empty and list(moments.columns) == ["time_s", "change", "description"]


def test_a_strip_cell_where_the_face_was_never_read_says_so() -> None:
    rows = face_rows([(0.2, 1, "happy", 0.9), (1.2, 1, "happy", 0.9), (1.5, 2, "sad", 0.8)])
    rows.loc[1, PROB_COLUMNS] = None  # track 1 not read in its second second (as stored: NULL)
    cells = track_cells(rows.astype({c: object for c in PROB_COLUMNS}), duration_s=2.0)
    by_cell = {(row.track_id, row.start_s): row for row in cells.itertuples()}
    assert by_cell[(1, 0.0)].expression == "happy" and by_cell[(1, 1.0)].expression == NOT_READ
    assert np.isnan(by_cell[(1, 1.0)].confidence) and by_cell[(2, 1.0)].expression == "sad"


def test_older_sessions_without_readability_count_every_face_as_read() -> None:
    timeline = happy_timeline(np.array([0.5, 1.0])).assign(faces=[2, 1], faces_readable=[np.nan, np.nan])
    np.testing.assert_array_equal(faces_read(timeline), [2, 1])
    current = timeline.assign(faces_readable=[1, 0])
    assert coverage(current).groupby("status")["faces"].sum().to_dict() == {"not read": 2, "read": 1}


def test_reading_summary_gives_the_share_read_and_why_the_rest_was_not() -> None:
    summary = {"readable_share": 0.25, "unreadable_reasons": {"small": 30, "pose": 10, "blur": 0, "uncertain": 0}}
    assert reading_summary(summary) == (0.25, {"small": 0.75, "pose": 0.25})
    assert reading_summary({}) == (None, {})  # analysed before readability was assessed
