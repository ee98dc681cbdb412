import numpy as np
import pandas as pd
import pytest

from fer.engine.aggregate import MEAN_COLUMNS, SHARE_COLUMNS, SessionAggregator, long_shares
from fer.engine.detections import Detections
from fer.labels import CLASSES

#                 angry disgust fear happy sad surprise neutral
HAPPY = np.array([0.05, 0.0, 0.0, 0.7, 0.05, 0.1, 0.1])
SAD = np.array([0.1, 0.0, 0.1, 0.0, 0.6, 0.0, 0.2])
NEUTRAL = np.array([0.0, 0.0, 0.0, 0.1, 0.1, 0.0, 0.8])


def _frame(rows: dict[int, np.ndarray]) -> Detections:
    n = len(rows)
    return Detections(
        xyxy=np.tile([0, 0, 10, 10], (n, 1)), score=np.ones(n), track_id=list(rows), probs=list(rows.values())
    )


@pytest.fixture
def session() -> SessionAggregator:
    """Track 1 smiles throughout; track 2 is sad, then neutral; track 3 (a poster) is neutral; bin 2 is empty."""
    aggregator = SessionAggregator(bin_s=1.0, sample_interval_s=0.5)
    for time_s, track_2 in [(0.0, SAD), (0.5, SAD), (1.0, NEUTRAL), (1.5, NEUTRAL)]:
        aggregator.add(_frame({1: HAPPY, 2: track_2, 3: NEUTRAL}), time_s)
    aggregator.add(Detections(), 2.5)
    aggregator.add(_frame({1: HAPPY, 3: NEUTRAL}), 3.0)
    return aggregator


def _shares(row: pd.Series) -> dict[str, float]:
    return {c: row[f"share_{c}"] for c in CLASSES if row[f"share_{c}"] > 0}


def test_timeline_has_one_row_per_bin_with_faces_and_shares(session: SessionAggregator) -> None:
    timeline = session.timeline()
    assert list(timeline.columns) == ["time_s", "faces", "faces_readable", *SHARE_COLUMNS, *MEAN_COLUMNS]
    assert timeline["time_s"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert timeline["faces"].tolist() == [3, 3, 0, 2]
    assert _shares(timeline.loc[0]) == pytest.approx({"happy": 1 / 3, "sad": 1 / 3, "neutral": 1 / 3})
    assert _shares(timeline.loc[1]) == pytest.approx({"happy": 1 / 3, "neutral": 2 / 3})
    assert _shares(timeline.loc[3]) == pytest.approx({"happy": 0.5, "neutral": 0.5})
    filled = timeline.loc[[0, 1, 3]]
    np.testing.assert_allclose(filled[SHARE_COLUMNS].sum(axis=1), 1.0)
    np.testing.assert_allclose(filled[MEAN_COLUMNS].sum(axis=1), 1.0)


def test_timeline_mean_probabilities_average_the_faces_of_a_bin(session: SessionAggregator) -> None:
    timeline = session.timeline()
    np.testing.assert_allclose(timeline.loc[0, MEAN_COLUMNS].to_numpy(float), (HAPPY + SAD + NEUTRAL) / 3)
    np.testing.assert_allclose(timeline.loc[3, MEAN_COLUMNS].to_numpy(float), (HAPPY + NEUTRAL) / 2)


def test_empty_bins_have_nan_shares(session: SessionAggregator) -> None:
    empty = session.timeline().loc[2]
    assert empty["faces"] == 0
    assert empty[SHARE_COLUMNS + MEAN_COLUMNS].isna().all()


def test_a_timeline_since_a_time_is_the_tail_of_the_whole_one(session: SessionAggregator) -> None:
    whole = session.timeline(exclude={1})
    tail = session.timeline(exclude={1}, since_s=1.5)
    pd.testing.assert_frame_equal(tail, whole.iloc[1:].reset_index(drop=True))
    assert session.timeline(since_s=-30).equals(session.timeline())
    assert session.timeline(since_s=99).empty


def test_a_face_counts_once_per_bin_with_its_mean_probabilities() -> None:
    aggregator = SessionAggregator(bin_s=1.0)
    weak_sad = np.array([0.0, 0.0, 0.0, 0.3, 0.4, 0.0, 0.3])
    for time_s, probs in [(0.0, weak_sad), (0.3, weak_sad), (0.6, HAPPY)]:
        aggregator.add(_frame({5: probs}), time_s)
    row = aggregator.timeline().loc[0]
    assert row["faces"] == 1
    assert _shares(row) == {"happy": 1.0}  # mean P(happy) 0.43 beats mean P(sad) 0.28
    assert row["mean_p_happy"] == pytest.approx((0.3 + 0.3 + 0.7) / 3)


def test_exclude_removes_a_track_from_timeline_and_overall(session: SessionAggregator) -> None:
    timeline = session.timeline(exclude={3})
    assert timeline["faces"].tolist() == [2, 2, 0, 1]
    assert _shares(timeline.loc[0]) == pytest.approx({"happy": 0.5, "sad": 0.5})
    overall = session.overall(exclude={3})
    assert overall["face_frames"] == 9
    assert overall["dominant"] == "happy"
    assert overall["class_shares"]["happy"] == pytest.approx(5 / 9, abs=1e-4)


def test_tracks_table_summarises_each_track(session: SessionAggregator) -> None:
    table = session.tracks(static={3}).set_index("track_id")
    assert table.index.tolist() == [1, 2, 3]
    assert table["first_s"].tolist() == [0.0, 0.0, 0.0]
    assert table["last_s"].tolist() == [3.0, 1.5, 3.0]
    assert table["frames"].tolist() == [5, 4, 5]
    assert table["present_s"].tolist() == [2.5, 2.0, 2.5]
    assert table["dominant"].tolist() == ["happy", "neutral", "neutral"]
    assert table["static"].tolist() == [False, False, True]
    assert _shares(table.loc[2]) == {"sad": 0.5, "neutral": 0.5}
    assert _shares(table.loc[1]) == {"happy": 1.0}


def test_overall_dominant_class_and_indicators(session: SessionAggregator) -> None:
    overall = session.overall()
    assert overall["face_frames"] == 14
    assert overall["dominant"] == "neutral"  # 7 of 14 face-frames
    assert overall["class_shares"] == pytest.approx(
        {"angry": 0, "disgust": 0, "fear": 0, "happy": 5 / 14, "sad": 2 / 14, "surprise": 0, "neutral": 7 / 14},
        abs=1e-4,
    )
    mean = (5 * HAPPY + 2 * SAD + 7 * NEUTRAL) / 14
    assert list(overall["mean_probabilities"].values()) == pytest.approx(mean.tolist(), abs=1e-4)
    # the indicators follow the shares the charts show: half the face time read was neutral
    assert overall["indicators"]["non_neutral_share"] == pytest.approx(7 / 14, abs=1e-4)
    assert overall["indicators"]["positive_negative_balance"] == pytest.approx(5 / 14 - 2 / 14, abs=1e-4)
    assert set(overall["indicator_definitions"]) == set(overall["indicators"])


def test_no_faces_at_all() -> None:
    aggregator = SessionAggregator()
    for time_s in (0.0, 0.5, 1.2):
        aggregator.add(Detections(), time_s)
    overall = aggregator.overall()
    assert overall["face_frames"] == 0
    assert all(overall[key] is None for key in ("class_shares", "mean_probabilities", "dominant", "indicators"))
    timeline = aggregator.timeline()
    assert timeline["faces"].tolist() == [0, 0]
    assert timeline[SHARE_COLUMNS].isna().all().all()
    assert aggregator.tracks().empty and "dominant" in aggregator.tracks().columns


def test_excluding_every_track_is_like_no_faces(session: SessionAggregator) -> None:
    assert session.overall(exclude={1, 2, 3})["face_frames"] == 0
    assert session.timeline(exclude={1, 2, 3})["faces"].sum() == 0


def test_bins_follow_bin_width() -> None:
    aggregator = SessionAggregator(bin_s=2.0)
    aggregator.add(_frame({1: HAPPY}), 0.5)
    aggregator.add(_frame({1: SAD}), 5.9)
    timeline = aggregator.timeline()
    assert timeline["time_s"].tolist() == [0.0, 4.0]  # no frame in 2-4 s: a gap, not an empty row
    assert timeline["faces"].tolist() == [1, 1]


def test_reset_clears_the_session(session: SessionAggregator) -> None:
    session.reset()
    assert session.overall()["face_frames"] == 0 and len(session.timeline()) == 0


@pytest.mark.parametrize("bin_s", [0.0, -1.0])
def test_non_positive_bin_width_is_rejected(bin_s: float) -> None:
    with pytest.raises(ValueError, match="bin_s"):
        SessionAggregator(bin_s=bin_s)


def test_long_shares_has_one_row_per_bin_and_class() -> None:
    shares = np.random.default_rng(0).dirichlet(np.ones(len(CLASSES)), size=4)
    timeline = pd.DataFrame(shares, columns=SHARE_COLUMNS).assign(time_s=np.arange(4.0), faces=1)
    long = long_shares(timeline)
    assert list(long.columns) == ["time_s", "expression", "share"] and len(long) == 4 * 7
    assert all(sorted(group) == sorted(CLASSES) for _, group in long.groupby("time_s")["expression"])
    sad_at_2 = long[(long["time_s"] == 2.0) & (long["expression"] == "sad")]["share"]
    assert sad_at_2.item() == pytest.approx(shares[2, CLASSES.index("sad")])


def _mixed(track_2_unreadable: int) -> Detections:
    probs = [HAPPY, SAD if track_2_unreadable == 0 else np.full(len(CLASSES), np.nan)]
    return Detections(np.tile([0, 0, 10, 10], (2, 1)), np.ones(2), [1, 2], probs, unreadable=[0, track_2_unreadable])


def test_faces_not_read_count_as_present_but_in_no_expression_number() -> None:
    aggregator = SessionAggregator(bin_s=1.0, sample_interval_s=0.5)
    for time_s, unreadable in [(0.0, 1), (0.5, 1), (1.0, 4), (1.5, 0)]:  # track 2: small, small, uncertain, read
        aggregator.add(_mixed(unreadable), time_s)
    timeline = aggregator.timeline()
    assert timeline["faces"].tolist() == [2, 2] and timeline["faces_readable"].tolist() == [1, 2]
    assert _shares(timeline.loc[0]) == pytest.approx({"happy": 1.0})  # not {"happy": 0.5, <a guess>: 0.5}
    assert _shares(timeline.loc[1]) == pytest.approx({"happy": 0.5, "sad": 0.5})
    np.testing.assert_allclose(timeline.loc[1, "mean_p_sad"], (HAPPY[4] + SAD[4]) / 2)  # only the frame read
    tracks = aggregator.tracks().set_index("track_id")
    assert tracks.loc[2, "frames"] == 4 and tracks.loc[2, "readable_frames"] == 1 and tracks.loc[2, "dominant"] == "sad"
    overall = aggregator.overall()
    assert (overall["face_frames"], overall["readable_face_frames"], overall["readable_share"]) == (8, 5, 0.625)
    assert overall["unreadable_reasons"] == {"small": 2, "pose": 0, "blur": 0, "uncertain": 1}
    assert overall["class_shares"]["happy"] == pytest.approx(0.8) and overall["class_shares"]["sad"] == 0.2


def test_a_session_with_no_face_read_has_faces_present_and_no_expression_numbers() -> None:
    aggregator = SessionAggregator(bin_s=1.0)
    small = np.array([[12.0, 0.0, 0.0, 120.0, 50.0, 0.5]], np.float32)  # 12 px across
    for step in range(5):
        aggregator.add(Detections([[0, 0, 11, 11]], [0.9], [1], unreadable=[1]), step * 0.5, small)
    timeline, tracks, numbers = aggregator.finish(static=set())
    assert timeline["faces"].tolist() == [1, 1, 1] and timeline["faces_readable"].tolist() == [0, 0, 0]
    assert timeline[SHARE_COLUMNS].isna().all().all()
    assert tracks.loc[0, "dominant"] == "" and tracks.loc[0, "readable_frames"] == 0
    assert numbers["readable_share"] == 0.0 and numbers["dominant"] is None and numbers["class_shares"] is None
    assert numbers["indicators"] is None
    assert numbers["quality"]["face_px"]["session"]["median"] == 12.0
    assert any("12 px across" in warning for warning in numbers["input_warnings"])


def test_a_timestamp_far_in_the_future_adds_one_row_not_a_million() -> None:
    """A tiny file whose last frame claims to be at 10^6 s must not make a million-row timeline."""
    aggregator = SessionAggregator(bin_s=1.0)
    for time_s in (0.0, 0.04, 0.08, 1_000_000.0):
        aggregator.add(_frame({1: HAPPY}), time_s)
    timeline = aggregator.timeline()
    assert timeline["time_s"].tolist() == [0.0, 1_000_000.0] and timeline["faces"].tolist() == [1, 1]
    assert aggregator.timeline(since_s=999_990.0)["time_s"].tolist() == [1_000_000.0]
