"""Retention (fer.sessions.retention): expired files go, the numbers stay."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fer.engine.aggregate import SessionAggregator
from fer.engine.detections import Detections
from fer.labels import CLASSES
from fer.sessions.retention import (
    RETENTION_ENV,
    RetentionSettingError,
    delete_files,
    purge_expired,
    retention_days,
)
from fer.sessions.store import SessionStore

DAYS = 7.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    session_store = SessionStore(f"sqlite:///{tmp_path}/s.db")
    yield session_store
    session_store.engine.dispose()


def _save(store: SessionStore, artifacts: Path | None, sha256: str | None = None) -> int:
    """A two-second, one-face session; its artefacts folder (if any) holds an exported file."""
    aggregator = SessionAggregator(bin_s=1.0, sample_interval_s=0.5)
    probs = np.full((1, len(CLASSES)), 0.05, np.float32)
    probs[0, CLASSES.index("happy")] = 0.7
    for step in range(4):
        aggregator.add(Detections([[10, 10, 50, 50]], [0.9], [1], probs), step * 0.5)
    if artifacts is not None:
        artifacts.mkdir(parents=True)
        (artifacts / "annotated.mp4").write_bytes(b"video")
    return store.save(
        name=f"session in {artifacts}",
        source="upload",
        summary={"duration_s": 2.0, "fps": 2.0, "frames_analysed": 4, "tracks": 1},
        timeline=aggregator.timeline(),
        tracks_table=aggregator.tracks(),
        artifacts_dir=artifacts,
        source_sha256=sha256,
    )


def _age(path: Path, timestamp: float) -> Path:
    path.write_bytes(b"upload")
    os.utime(path, (timestamp, timestamp))
    return path


def test_expired_files_are_removed_and_the_numbers_kept(store: SessionStore, tmp_path: Path) -> None:
    old_id = _save(store, tmp_path / "sessions" / "old")
    no_files_id = _save(store, None)
    new_id = _save(store, tmp_path / "sessions" / "new", sha256="b" * 64)
    old, new = store.get(old_id), store.get(new_id)
    assert old.created < new.created
    cutoff = old.created + (new.created - old.created) / 2  # the old session is just past retention, the new not
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    expired_upload = _age(uploads / "a.mp4", (cutoff - timedelta(hours=1)).timestamp())
    fresh_upload = _age(uploads / f"{'b' * 64}.mp4", (cutoff + timedelta(hours=1)).timestamp())  # the new one's
    (uploads / "folder").mkdir()
    os.utime(uploads / "folder", (0, 0))  # only files are uploads
    timelines = {i: store.timeline(i) for i in (old_id, no_files_id, new_id)}

    removed = purge_expired(store, tmp_path, DAYS, now=cutoff + timedelta(days=DAYS))

    assert removed == 2  # the old session's folder and one upload
    assert not Path(old.artifacts_dir).exists() and store.get(old_id).artifacts_dir is None
    assert (Path(new.artifacts_dir) / "annotated.mp4").is_file() and store.get(
        new_id
    ).artifacts_dir == new.artifacts_dir
    assert not expired_upload.exists() and fresh_upload.is_file() and (uploads / "folder").is_dir()
    assert [s.id for s in store.list()] == [new_id, no_files_id, old_id]
    for session_id, timeline in timelines.items():
        assert len(timeline) == 2
        pd.testing.assert_frame_equal(store.timeline(session_id), timeline)


def test_uploads_no_session_or_job_needs_and_partial_copies_go_after_a_day(store: SessionStore, tmp_path: Path) -> None:
    """What a job cancelled or failed while the server was down, or an upload cut short by a crash, left behind."""
    _save(store, None, sha256="c" * 64)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    now = time.time()
    day_old = now - 25 * 3600
    kept = _age(uploads / f"{'c' * 64}.mp4", day_old)  # a stored session's recording, within retention
    left_over = _age(uploads / f"{'d' * 64}.mp4", day_old)
    partial = _age(uploads / ".0123abcd.partial", day_old)
    saving_now = _age(uploads / ".4567ef01.partial", now - 60)  # may be an upload being written
    assert purge_expired(store, tmp_path, DAYS) == 2
    assert kept.is_file() and saving_now.is_file() and not left_over.exists() and not partial.exists()


def test_purging_twice_removes_nothing_more(store: SessionStore, tmp_path: Path) -> None:
    session_id = _save(store, tmp_path / "artifacts")
    now = store.get(session_id).created + timedelta(days=DAYS, seconds=1)
    assert purge_expired(store, tmp_path, DAYS, now=now) == 1
    assert purge_expired(store, tmp_path, DAYS, now=now) == 0
    assert store.get(session_id).artifacts_dir is None


@pytest.mark.parametrize(("value", "expected"), [(None, 7.0), ("", 7.0), ("30", 30.0), ("0.5", 0.5)])
def test_retention_days_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: float
) -> None:
    if value is None:
        monkeypatch.delenv(RETENTION_ENV, raising=False)
    else:
        monkeypatch.setenv(RETENTION_ENV, value)
    assert retention_days() == expected


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "inf", "7 days"])
def test_a_retention_setting_that_is_not_a_positive_number_is_refused_with_its_name(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(RETENTION_ENV, value)
    with pytest.raises(RetentionSettingError, match=f"{RETENTION_ENV}=.*positive number of days"):
        retention_days()


def test_deleting_removes_the_files_at_once_and_the_upload_once_no_session_uses_it(
    store: SessionStore, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    upload = uploads / ("ab" * 32 + ".mp4")
    upload.write_bytes(b"recording")
    first = _save(store, tmp_path / "first", sha256="ab" * 32)
    second = _save(store, tmp_path / "second", sha256="ab" * 32)  # the same file analysed again
    delete_files(store, store.delete(first), tmp_path)
    assert not (tmp_path / "first").exists() and (tmp_path / "second").is_dir()
    assert upload.is_file()  # the second session was made from it
    delete_files(store, store.delete(second), tmp_path)
    assert not (tmp_path / "second").exists() and not upload.exists()


def test_folders_of_analyses_killed_before_they_were_stored_are_swept_once_a_day_old(
    store: SessionStore, tmp_path: Path
) -> None:
    sessions_dir = tmp_path / "sessions"
    kept = sessions_dir / "kept"
    _save(store, kept)
    killed, running = sessions_dir / "killed", sessions_dir / "running"
    for folder in (killed, running):
        folder.mkdir(parents=True)
        (folder / "annotated.mp4").write_bytes(b"a complete, unblurred video")
    two_days_ago = time.time() - 2 * 86400
    for folder in (kept, killed):
        os.utime(folder, (two_days_ago, two_days_ago))
    assert purge_expired(store, tmp_path, 30.0) == 1
    assert not killed.exists() and kept.is_dir() and running.is_dir()  # a young folder may be a running analysis


def test_files_outside_the_data_folder_are_never_deleted(store: SessionStore, tmp_path: Path) -> None:
    """A database from a moved data folder names the old, absolute place: the app leaves it alone."""
    elsewhere = tmp_path / "original" / "sessions" / "a"
    session_id = _save(store, elsewhere)
    data_folder = tmp_path / "moved"
    data_folder.mkdir()
    now = store.get(session_id).created + timedelta(days=DAYS, seconds=1)
    assert store.get(session_id).artifacts(data_folder) is None
    purge_expired(store, data_folder, DAYS, now=now)
    delete_files(store, store.get(session_id), data_folder)
    assert (elsewhere / "annotated.mp4").is_file()


def test_a_relative_folder_follows_the_data_folder(store: SessionStore, tmp_path: Path) -> None:
    stored = replace(store.get(_save(store, None)), artifacts_dir="sessions/b")  # as the workflow stores it
    assert stored.artifacts(tmp_path / "moved") == tmp_path / "moved" / "sessions" / "b"
    assert replace(stored, artifacts_dir="../../etc").artifacts(tmp_path / "moved") is None  # never outside


def test_a_queued_or_running_job_keeps_its_old_upload_and_folder_and_old_finished_jobs_are_forgotten(
    store: SessionStore, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from fer.engine.pipeline import AnalysisSettings
    from fer.sessions.jobs import JobQueue
    from fer.sessions.migrations import jobs

    queue = JobQueue(store.engine)
    (tmp_path / "uploads").mkdir()
    long_ago = time.time() - 30 * 86400
    waiting, running = (_age(tmp_path / "uploads" / f"{name}.mp4", long_ago) for name in ("waiting", "running"))
    folder = tmp_path / "sessions" / "running"
    folder.mkdir(parents=True)
    os.utime(folder, (long_ago, long_ago))
    settings = AnalysisSettings().to_dict()
    for upload in (running, waiting):
        queue.enqueue(owner="local", name=upload.stem, upload=f"uploads/{upload.name}", settings=settings)
    queue.claim("w", "sessions/running")
    old = queue.enqueue(owner="local", name="old", upload="uploads/gone.mp4", settings=settings)
    queue.request_cancel(old, "local")
    recent = queue.enqueue(owner="local", name="recent", upload="uploads/gone.mp4", settings=settings)
    queue.request_cancel(recent, "local")
    with store.engine.begin() as connection:
        finished = datetime.now(UTC) - timedelta(days=DAYS + 1)
        connection.execute(sa.update(jobs).where(jobs.c.id == old).values(finished=finished))
    assert purge_expired(store, tmp_path, DAYS) == 0
    assert waiting.is_file() and running.is_file() and folder.is_dir()  # still needed, however old
    assert queue.get(old) is None and queue.get(recent) is not None
