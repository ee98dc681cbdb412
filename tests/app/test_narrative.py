"""The report's opening paragraph (fer.app.narrative) on generated sessions: 1 face, 30 faces, none readable,
an hour, none found."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fer.app.moments import notable_moments
from fer.app.narrative import lesson_summary, reasons_text
from fer.app.report import reading_summary
from fer.labels import CLASSES
from fer.sessions.store import SessionStore
from tests.synthetic import scripted_session

EMPTY = pd.DataFrame(columns=["time_s", "faces", "faces_readable"])


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")


def _text(store: SessionStore, **kwargs: object) -> str:
    session_id = scripted_session(store, **kwargs)
    stored, timeline = store.get(session_id), store.timeline(session_id)
    return lesson_summary(stored.summary, timeline, notable_moments(timeline), stored.source)


def test_thirty_faces_for_an_hour(store: SessionStore) -> None:
    text = _text(store, faces=30, seconds=3600, read_share=0.8)
    assert text.startswith("This 1:00:00 recording showed 30 faces.")
    assert "Expressions could be read on 80% of the face time; the rest could not be read: too small." in text
    assert "the most common observed expression was neutral" in text
    assert "From the first third of the lesson to the last, negative expressions rose (0% → 6" in text
    assert "Notable moments at 20:00 (positive expressions rose by 6" in text and "and 40:00 (" in text


def test_two_reasons_are_shares_of_the_unread_time() -> None:
    summary = {"readable_share": 0.85, "unreadable_reasons": {"small": 0, "pose": 2, "blur": 0, "uncertain": 18}}
    assert reasons_text(reading_summary(summary)[1]) == (
        "mostly too uncertain to read (90% of the unread face time), then turned away or looking down (10%)"
    )


def test_one_face(store: SessionStore) -> None:
    text = _text(store, faces=1, seconds=300)
    assert text.startswith("This 5:00 recording showed 1 face.")
    assert "Notable moments" in text


def test_no_face_could_be_read(store: SessionStore) -> None:
    text = _text(store, faces=5, seconds=120, read_share=0.0)
    assert text == (
        "This 2:00 recording showed 5 faces. None of the faces could be read (too small), so no expression is reported."
    )


def test_no_face_at_all(store: SessionStore) -> None:
    assert lesson_summary({"duration_s": 95.0, "tracks": 0}, EMPTY, EMPTY, "live") == (
        "No faces were found in this 1:35 live session, so there are no expressions to report."
    )


def test_faces_taken_for_pictures_are_said_never_dropped_silently(store: SessionStore) -> None:
    session_id = scripted_session(store, faces=5, seconds=120)
    stored, timeline = store.get(session_id), store.timeline(session_id)
    summary = {**stored.summary, "static_tracks": [3, 7]}
    text = lesson_summary(summary, timeline, notable_moments(timeline), stored.source)
    assert text.startswith(
        "This 2:00 recording showed 5 faces. 2 more faces were taken for pictures (never changing, like a poster or "
        "a photo) and left out of every number."
    )
    alone = lesson_summary({"duration_s": 60.0, "tracks": 0, "static_tracks": [1]}, EMPTY, EMPTY)
    assert alone == (
        "No faces were found in this 1:00 recording, so there are no expressions to report. 1 more face was taken "
        "for a picture (never changing, like a poster or a photo) and left out of every number."
    )


@pytest.mark.parametrize("word", ["feel", "engag", "emotion", "mood", "attention"])
def test_the_wording_stays_with_observed_expressions(store: SessionStore, word: str) -> None:
    assert word not in _text(store, faces=12, seconds=600).lower()


def _tracks(readings: dict[int, dict[str, int]], static: tuple[int, ...] = ()) -> pd.DataFrame:
    """A session's track table as the aggregator writes it: per face, its frames read and the share of each label."""
    rows = []
    for track_id, labels in readings.items():
        read = sum(labels.values())
        shares = {f"share_{name}": labels.get(name, 0) / read for name in CLASSES}
        rows.append({"track_id": track_id, "readable_frames": read, "static": track_id in static, **shares})
    return pd.DataFrame(rows)


def test_one_face_behind_most_negative_readings_is_said(store: SessionStore) -> None:
    session_id = scripted_session(store, faces=4, seconds=120)
    stored, timeline = store.get(session_id), store.timeline(session_id)
    tracks = _tracks({1: {"neutral": 100}, 2: {"angry": 60, "sad": 20, "neutral": 20}, 3: {"happy": 90, "sad": 10}})
    text = lesson_summary(stored.summary, timeline, notable_moments(timeline), stored.source, tracks)
    assert "89% of the negative readings came from one face (#2) of the 3 read: look at it in the video" in text


@pytest.mark.parametrize(
    "readings",
    [
        {1: {"angry": 30, "neutral": 70}, 2: {"sad": 30, "neutral": 70}, 3: {"fear": 30, "neutral": 70}},  # spread
        {1: {"angry": 100}, 2: {"neutral": 100}},  # two faces: one face's share is no news
        {1: {"sad": 5, "neutral": 95}, 2: {"neutral": 100}, 3: {"neutral": 100}},  # negative under 10 %
    ],
    ids=["spread-over-faces", "two-faces", "few-negative"],
)
def test_no_one_face_sentence_where_it_says_nothing(store: SessionStore, readings: dict) -> None:
    session_id = scripted_session(store, faces=4, seconds=120)
    stored, timeline = store.get(session_id), store.timeline(session_id)
    text = lesson_summary(stored.summary, timeline, notable_moments(timeline), stored.source, _tracks(readings))
    assert "came from one face" not in text


def test_faces_taken_for_pictures_do_not_count_as_the_one_face(store: SessionStore) -> None:
    session_id = scripted_session(store, faces=4, seconds=120)
    stored, timeline = store.get(session_id), store.timeline(session_id)
    readings = {1: {"angry": 100}, **{face: {name: 30, "neutral": 70} for face, name in ((2, "angry"), (3, "sad"))}}
    readings[4] = {"fear": 30, "neutral": 70}
    said = lesson_summary(stored.summary, timeline, EMPTY, stored.source, _tracks(readings))
    assert "53% of the negative readings came from one face (#1) of the 4 read" in said  # were it a person
    text = lesson_summary(stored.summary, timeline, EMPTY, stored.source, _tracks(readings, static=(1,)))
    assert "came from one face" not in text
