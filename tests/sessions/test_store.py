"""The session store, run on SQLite and on a real PostgreSQL server (FER_TEST_POSTGRES_URL, set by .ci/run)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from fer.engine.aggregate import SessionAggregator
from fer.engine.detections import Detections
from fer.engine.outputs import DETECTION_COLUMNS
from fer.labels import CLASSES
from fer.sessions.migrations import (
    MAX_MARKER_LABEL,
    SCHEMA,
    audit_log,
    current_version,
    markers,
    schema_version,
)
from fer.sessions.store import SessionStore


def _session_tables(seconds: int = 3) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A small real aggregation: two faces, one happy, one sad, over ``seconds``."""
    aggregator = SessionAggregator(bin_s=1.0, sample_interval_s=0.5)
    probs = np.full((2, 7), 0.02, np.float32)
    probs[0, CLASSES.index("happy")] = probs[1, CLASSES.index("sad")] = 0.88
    rows = []
    for step in range(seconds * 2):
        faces = Detections([[10, 10, 50, 50], [100, 10, 140, 50]], [0.9, 0.8], [1, 2], probs)
        aggregator.add(faces, step * 0.5)
        for track, (x, label) in enumerate([(10, "happy"), (100, "sad")], start=1):
            rows.append([step, step * 0.5, track, x, 10.0, 40.0, 40.0, 0.9, *probs[track - 1].tolist(), label, 1, ""])
    summary = {
        "duration_s": float(seconds),
        "fps": 2.0,
        "frames_analysed": seconds * 2,
        "tracks": 2,
        "dominant": "happy",
        "model_version": "test-123",
        "settings": {"every": 1},
    }
    return summary, aggregator.timeline(), aggregator.tracks(), pd.DataFrame(rows, columns=DETECTION_COLUMNS)


def _save(store: SessionStore, name: str = "Monday maths", **extra: object) -> int:
    summary, timeline, tracks, faces = _session_tables()
    return store.save(
        name=name, source="upload", summary=summary, timeline=timeline, tracks_table=tracks, face_rows=[faces], **extra
    )


def test_a_session_round_trips_with_all_its_rows(store: SessionStore) -> None:
    _, timeline, tracks, faces = _session_tables()
    session_id = _save(store, source_name="maths.mp4", source_sha256="ab" * 32)
    stored = store.get(session_id)
    assert (stored.name, stored.source, stored.source_name, stored.tracks) == ("Monday maths", "upload", "maths.mp4", 2)
    assert stored.settings == {"every": 1} and stored.summary["model_version"] == "test-123"
    assert stored.created.tzinfo is not None
    pd.testing.assert_frame_equal(store.timeline(session_id), timeline, check_dtype=False)
    pd.testing.assert_frame_equal(store.tracks(session_id), tracks, check_dtype=False)
    rows = store.face_rows(session_id)
    assert len(rows) == len(faces) and "label" not in rows.columns  # the label is derived, not stored
    np.testing.assert_allclose(rows[[f"p_{c}" for c in CLASSES]].to_numpy(), faces[[f"p_{c}" for c in CLASSES]])


def test_empty_bins_keep_their_missing_shares(store: SessionStore) -> None:
    summary, timeline, tracks, _ = _session_tables()
    timeline.loc[1, ["faces"]] = 0
    timeline.loc[1, [c for c in timeline.columns if c.startswith(("share_", "mean_p_"))]] = np.nan
    session_id = store.save(name="gap", source="live", summary=summary, timeline=timeline, tracks_table=tracks)
    stored = store.timeline(session_id)
    assert stored.loc[1, "faces"] == 0
    assert pd.isna(stored.loc[1, "share_happy"]) and pd.isna(stored.loc[1, "mean_p_sad"])


def test_a_failure_while_saving_leaves_no_half_session_and_keeps_the_others(store: SessionStore) -> None:
    kept = _save(store, name="kept")
    summary, timeline, tracks, faces = _session_tables()

    def rows_then_failure() -> Iterator[pd.DataFrame]:
        yield faces
        raise RuntimeError("analysis cancelled")

    with pytest.raises(RuntimeError):
        store.save(
            name="broken",
            source="upload",
            summary=summary,
            timeline=timeline,
            tracks_table=tracks,
            face_rows=rows_then_failure(),
        )
    assert [s.name for s in store.list()] == ["kept"]
    assert len(store.face_rows(kept)) == len(faces) and len(store.timeline(kept)) == 3


def test_list_rename_delete_and_duplicate_lookup(store: SessionStore) -> None:
    first = _save(store, name="first", source_sha256="1" * 64)
    second = _save(store, name="second")
    assert [s.id for s in store.list()] == [second, first]  # newest first
    store.rename(first, "  Renamed  ")
    assert store.get(first).name == "Renamed"
    with pytest.raises(ValueError):
        store.rename(first, "   ")
    assert store.find_by_hash("1" * 64).id == first and store.find_by_hash("2" * 64) is None
    store.delete(first)
    assert store.get(first) is None and store.face_rows(first).empty and store.timeline(first).empty
    assert store.get(second) is not None and not store.face_rows(second).empty


def test_bad_source_and_missing_columns_are_rejected_without_storing(store: SessionStore) -> None:
    summary, timeline, tracks, _ = _session_tables()
    with pytest.raises(ValueError, match="source"):
        store.save(name="x", source="webcam", summary=summary, timeline=timeline, tracks_table=tracks)
    with pytest.raises(ValueError, match="missing columns"):
        store.save(
            name="x", source="live", summary=summary, timeline=timeline.drop(columns="faces"), tracks_table=tracks
        )
    assert store.list() == []


def test_schema_is_versioned_and_reopening_keeps_the_data(store: SessionStore, database_url: str) -> None:
    session_id = _save(store)
    assert current_version(store.engine) == len(SCHEMA)
    reopened = SessionStore(database_url)
    assert reopened.get(session_id).name == "Monday maths"
    with store.engine.begin() as connection:
        connection.execute(sa.insert(schema_version).values(version=len(SCHEMA) + 1))
    with pytest.raises(RuntimeError, match="schema version"):
        SessionStore(database_url)
    reopened.engine.dispose()


def test_readability_columns_round_trip(store: SessionStore) -> None:
    summary, timeline, tracks, faces = _session_tables()
    faces.loc[1, ["readable", "unreadable_reason", "label"]] = [0, "pose", ""]
    faces.loc[1, [f"p_{c}" for c in CLASSES]] = np.nan
    session_id = store.save(
        name="m", source="upload", summary=summary, timeline=timeline, tracks_table=tracks, face_rows=[faces]
    )
    stored = store.face_rows(session_id).sort_values(["time_s", "track_id"]).reset_index(drop=True)
    assert stored.loc[1, "readable"] == 0 and stored.loc[1, "unreadable_reason"] == "pose"
    assert stored.loc[1, [f"p_{c}" for c in CLASSES]].isna().all() and stored.loc[0, "readable"] == 1
    assert store.timeline(session_id)["faces_readable"].tolist() == timeline["faces_readable"].tolist()
    assert store.tracks(session_id)["readable_frames"].tolist() == tracks["readable_frames"].tolist()


def test_a_schema_1_database_gains_the_readability_columns_and_keeps_its_sessions(
    store: SessionStore, database_url: str
) -> None:
    """Sessions analysed before readability existed stay, with their readability unknown (NULL), not invented."""
    session_id = _save(store)
    with store.engine.begin() as connection:  # back to schema 1: as a database made before this change
        for table, column in [
            ("timeline_bins", "faces_readable"),
            ("tracks", "readable_frames"),
            ("face_rows", "readable"),
            ("face_rows", "unreadable_reason"),
        ]:
            connection.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        connection.execute(sa.delete(schema_version).where(schema_version.c.version > 1))
    assert current_version(store.engine) == 1
    upgraded = SessionStore(database_url)
    assert current_version(upgraded.engine) == len(SCHEMA)
    assert upgraded.get(session_id).name == "Monday maths"
    assert upgraded.timeline(session_id)["faces_readable"].isna().all()
    assert upgraded.face_rows(session_id)["readable"].isna().all()
    upgraded.engine.dispose()


def test_each_owner_reaches_only_their_own_sessions(store: SessionStore) -> None:
    alice = _save(store, "Alice's maths", owner="alice@school.org")
    bob = _save(store, "Bob's physics", owner="bob@school.org")
    assert [s.name for s in store.list(owner="alice@school.org")] == ["Alice's maths"]
    assert store.get(bob, owner="alice@school.org") is None  # another teacher's id is as good as none
    assert store.get(alice, owner="alice@school.org").owner == "alice@school.org"
    with pytest.raises(PermissionError):
        store.rename(bob, "taken", owner="alice@school.org")
    with pytest.raises(PermissionError):
        store.delete(bob, owner="alice@school.org")
    assert store.get(bob).name == "Bob's physics" and not store.timeline(bob).empty  # untouched
    summary = _session_tables()[0]
    assert store.find_by_hash("ab" * 32, owner="alice@school.org") is None
    store.save(name="dup", source="upload", summary=summary, timeline=_session_tables()[1],
               tracks_table=_session_tables()[2], source_sha256="ab" * 32, owner="bob@school.org")  # fmt: skip
    assert store.find_by_hash("ab" * 32, owner="alice@school.org") is None  # not even whether Bob has it
    assert store.find_by_hash("ab" * 32, owner="bob@school.org").name == "dup"
    assert {s.owner for s in store.list()} == {"alice@school.org", "bob@school.org"}  # owner=None: admins
    store.delete(alice, owner="alice@school.org")
    assert store.list(owner="alice@school.org") == []


def test_the_audit_log_keeps_who_did_what_and_when(store: SessionStore) -> None:
    session_id = _save(store)
    store.record("alice@school.org", "sign_in")
    store.record("alice@school.org", "download_video", session_id, "annotated.mp4")
    log = store.audit()
    assert log[["actor", "action", "session_id"]].values.tolist()[0] == [
        "alice@school.org",
        "download_video",
        session_id,
    ]
    assert log["action"].tolist() == ["download_video", "sign_in"] and log["at"].notna().all()


def test_a_schema_2_database_gains_owners_and_keeps_its_sessions_as_the_local_users(
    store: SessionStore, database_url: str
) -> None:
    session_id = _save(store)
    with store.engine.begin() as connection:  # back to schema 2, as a database made before sign-in existed
        connection.execute(sa.text("DROP INDEX ix_sessions_owner"))
        connection.execute(sa.text("ALTER TABLE sessions DROP COLUMN owner"))
        connection.execute(sa.text("DROP TABLE audit_log"))
        connection.execute(sa.delete(schema_version).where(schema_version.c.version > 2))
    upgraded = SessionStore(database_url)
    assert current_version(upgraded.engine) == len(SCHEMA)
    assert upgraded.get(session_id, owner="local").name == "Monday maths"
    assert upgraded.list(owner="someone@school.org") == []
    upgraded.record("local", "sign_in")
    assert len(upgraded.audit()) == 1
    upgraded.engine.dispose()


def test_a_name_too_long_for_the_database_is_refused_before_anything_is_stored(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="at most 200 characters, this one has 201"):
        _save(store, "x" * 201)
    assert store.list() == []
    session_id = _save(store, "  " + "y" * 200 + "  ")  # surrounding spaces do not count
    assert store.get(session_id).name == "y" * 200
    with pytest.raises(ValueError, match="at most 200"):
        store.rename(session_id, "z" * 300)
    assert store.get(session_id).name == "y" * 200


def test_sessions_saved_while_a_long_save_holds_the_database_are_all_stored(database_url: str) -> None:
    """Two analyses finishing while a large session is being saved: all are stored, on SQLite and PostgreSQL."""
    import threading

    first, second = SessionStore(database_url), SessionStore(database_url)
    if first.engine.dialect.name == "sqlite":
        with first.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    holding = threading.Event()

    def long_save() -> None:
        with first.engine.begin() as connection:  # a write transaction held long, as a 1 M-row save holds it
            connection.execute(sa.insert(audit_log).values(at=datetime.now(UTC), actor="a", action="b"))
            holding.set()
            threading.Event().wait(6.0)  # longer than sqlite3's default 5 s wait

    writer = threading.Thread(target=long_save)
    writer.start()
    holding.wait(5)
    results: list[int] = []
    others = [
        threading.Thread(target=lambda n=n: results.append(_save(second, f"finished meanwhile {n}"))) for n in (1, 2)
    ]
    for other in others:  # two at once, each waiting for the lock on SQLite (PostgreSQL locks rows, not tables)
        other.start()
    for other in others:
        other.join()
    writer.join()
    assert sorted(second.get(i).name for i in results) == ["finished meanwhile 1", "finished meanwhile 2"]
    assert len(second.audit()) == 1
    first.engine.dispose()
    second.engine.dispose()


def test_default_database_is_a_sqlite_file_in_the_data_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    store = SessionStore()
    assert store.engine.dialect.name == "sqlite" and (tmp_path / "data" / "sessions.db").is_file()


def test_lesson_markers_are_kept_in_time_order_checked_and_go_with_their_session(store: SessionStore) -> None:
    session_id = _save(store, owner="ana@school.org")  # a 3-second session
    store.add_marker(session_id, 2.0, "  group work ", owner="ana@school.org")
    quiz = store.add_marker(session_id, 0.5, "quiz", owner="ana@school.org")
    assert store.markers(session_id)[["time_s", "label"]].values.tolist() == [[0.5, "quiz"], [2.0, "group work"]]
    for time_s, label in ((1.0, ""), (1.0, "x" * (MAX_MARKER_LABEL + 1)), (3.5, "after the end"), (-1.0, "before")):
        with pytest.raises(ValueError, match=r"label|within"):
            store.add_marker(session_id, time_s, label, owner="ana@school.org")
    with pytest.raises(PermissionError):  # another teacher reaches neither the session nor its markers
        store.add_marker(session_id, 1.0, "mine now", owner="bo@school.org")
    with pytest.raises(PermissionError):
        store.delete_marker(session_id, quiz, owner="bo@school.org")
    store.delete_marker(session_id, quiz, owner="ana@school.org")
    assert store.markers(session_id)["label"].tolist() == ["group work"]
    store.delete(session_id)
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(markers)).scalar() == 0
