"""Report tables (fer.app.report): bars of any session length, stacking, groups, coverage, the track strip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fer.app.report import (
    MAX_STRIP_COLUMNS,
    MOST_BARS,
    NOT_READ,
    PROB_COLUMNS,
    SHARE_COLUMNS,
    bar_seconds,
    coverage,
    faces_read,
    overall_group_shares,
    overall_shares,
    reading_summary,
    readings_per_second,
    resample,
    stacked,
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


@pytest.mark.parametrize(("duration", "bin_s"), [(30, 1.0), (600, 1.0), (3600, 1.0), (6 * 3600, 1.0), (10, 2.0)])
def test_bars_are_round_seconds_at_least_the_bin_and_never_more_than_the_limit(duration: float, bin_s: float) -> None:
    bar = bar_seconds(duration, bin_s)
    assert bar >= bin_s and duration / bar <= MOST_BARS
    assert bar in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800) or bar % 3600 == 0


def test_a_bar_weights_each_bin_by_its_faces_read_and_gaps_stay_gaps() -> None:
    shares = np.zeros((6, len(CLASSES)))
    shares[0, HAPPY] = 1.0  # 1 face read, happy
    shares[1, CLASSES.index("sad")] = 1.0  # 3 faces read, all sad
    shares[2:, HAPPY] = 1.0
    timeline = timeline_frame(shares, faces=[1, 3, 2, 2, 0, 0])
    timeline = timeline.drop(index=[4]).reset_index(drop=True)  # bin 4 was never analysed: no row at all
    bars = resample(timeline, 2.0)
    assert bars["time_s"].tolist() == [0.0, 2.0, 4.0] and bars["end_s"].tolist() == [2.0, 4.0, 6.0]
    assert bars.loc[0, "share_happy"] == pytest.approx(0.25) and bars.loc[0, "share_sad"] == pytest.approx(0.75)
    assert bars.loc[0, "faces"] == 2.0 and bars.loc[0, "faces_readable"] == 2.0  # means over its bins
    assert bars.loc[2, SHARE_COLUMNS].isna().all()  # faces: none read, so no share is made up


def test_a_six_hour_session_is_at_most_the_bar_limit() -> None:
    seconds = 6 * 3600
    timeline = timeline_frame(np.tile(np.eye(len(CLASSES))[HAPPY], (seconds, 1)))
    bars = resample(timeline, bar_seconds(seconds))
    assert len(bars) <= MOST_BARS and bars["share_happy"].eq(1.0).all()


@pytest.mark.parametrize("grouped", [False, True])
def test_stacked_bars_add_up_to_one_in_a_fixed_order_negative_at_the_bottom(grouped: bool) -> None:
    shares = np.random.default_rng(3).dirichlet(np.ones(len(CLASSES)), size=4)
    rows = stacked(resample(timeline_frame(shares, faces=[2, 0, 1, 3]), 1.0), grouped)
    assert sorted(set(rows["time_s"])) == [0.0, 2.0, 3.0]
    per_bar = rows.groupby("time_s")
    assert np.allclose(per_bar["share"].sum(), 1.0) and np.allclose(per_bar["top"].max(), 1.0)
    first = rows[rows["time_s"] == 0.0]
    assert first.iloc[0]["expression"] == ("negative" if grouped else "angry") and first.iloc[0]["bottom"] == 0
    assert first.iloc[-1]["expression"] == ("positive" if grouped else "happy")
    if grouped:
        negative = shares[0, [CLASSES.index(c) for c in ("angry", "disgust", "fear", "sad")]].sum()
        assert first.iloc[0]["share"] == pytest.approx(negative)


def test_coverage_stacks_faces_not_read_on_those_read() -> None:
    timeline = timeline_frame(np.tile(np.eye(len(CLASSES))[HAPPY], (3, 1)), faces=[2, 3, 1])
    timeline["faces_readable"] = [2, 1, 0]
    rows = coverage(resample(timeline, 1.0))
    read, not_read = rows[rows["status"] == "read"], rows[rows["status"] == NOT_READ]
    assert read["faces"].tolist() == [2, 1, 0] and not_read["faces"].tolist() == [0, 2, 1]
    assert (not_read["bottom"].to_numpy() == read["top"].to_numpy()).all()


def test_faces_read_counts_every_face_of_sessions_analysed_before_readability() -> None:
    timeline = timeline_frame(np.tile(np.eye(len(CLASSES))[HAPPY], (2, 1)), faces=[3, 1]).drop(columns="faces_readable")
    assert faces_read(timeline).tolist() == [3, 1]


def test_group_shares_of_the_whole_session() -> None:
    groups = overall_group_shares({"class_shares": {"happy": 0.2, "sad": 0.3, "angry": 0.1, "neutral": 0.4}})
    assert groups == pytest.approx({"positive": 0.2, "neutral": 0.4, "surprise": 0.0, "negative": 0.4})
    assert overall_group_shares({"class_shares": None}) == {}


def test_reasons_not_read_come_largest_first() -> None:
    share, reasons = reading_summary({"readable_share": 0.5, "unreadable_reasons": {"small": 1, "blur": 3}})
    assert share == 0.5 and list(reasons) == ["blur", "small"] and reasons["blur"] == 0.75


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


def test_few_faces_get_wider_bars_so_each_holds_several_readings() -> None:
    one_face = timeline_frame(np.tile(np.eye(len(CLASSES))[HAPPY], (300, 1)))
    assert readings_per_second(one_face) == 1.0
    assert bar_seconds(300, 1.0, readings_per_second(one_face)) == 10  # not 2 s bars of 0 or 100 %
    thirty = timeline_frame(np.tile(np.eye(len(CLASSES))[HAPPY], (300, 1)), faces=np.full(300, 30))
    assert bar_seconds(300, 1.0, readings_per_second(thirty)) == 2  # many faces: the finest bars the limit allows
