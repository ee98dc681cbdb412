"""The job queue (fer.sessions.jobs) on SQLite and PostgreSQL: every state change is won once."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from fer.engine.analyze import Progress
from fer.engine.pipeline import AnalysisSettings
from fer.sessions.jobs import CANCELLED, DONE, FAILED, MAX_ATTEMPTS, QUEUED, RUNNING, JobQueue, JobTakenBackError
from fer.sessions.migrations import jobs, timeline_bins, tracks
from fer.sessions.store import SessionStore


@pytest.fixture
def queue(store: SessionStore) -> JobQueue:
    return JobQueue(store.engine)


def _enqueue(queue: JobQueue, owner: str = "a@school.org", name: str = "Maths", sha256: str = "ab" * 32) -> int:
    return queue.enqueue(
        owner=owner, name=name, upload=f"uploads/{sha256}.mp4", settings=AnalysisSettings().to_dict(),
        source_name="maths.mp4", source_sha256=sha256,
    )  # fmt: skip


def test_a_job_is_claimed_once_oldest_first_and_its_settings_come_back(queue: JobQueue) -> None:
    first, second = _enqueue(queue, name="first"), _enqueue(queue, name="second", sha256="cd" * 32)
    claimed = queue.claim("worker-1", "sessions/one")
    assert (claimed.id, claimed.state, claimed.attempts, claimed.artifacts_dir) == (first, RUNNING, 1, "sessions/one")
    assert AnalysisSettings.from_dict(claimed.settings) == AnalysisSettings()
    assert queue.claim("worker-2", "sessions/two").id == second
    assert queue.claim("worker-3", "sessions/three") is None  # nothing left: no job runs twice


def test_progress_is_recorded_and_a_cancel_stops_the_worker_that_reports(queue: JobQueue) -> None:
    job_id = _enqueue(queue)
    queue.claim("w", "sessions/x")
    assert queue.report(job_id, "w", "Analysing", Progress(30, 15.0, 60.0, 5.0))
    job = queue.get(job_id)
    assert (job.progress, job.video_time_s, job.duration_s, job.eta_s) == (0.25, 15.0, 60.0, 15.0)
    assert not queue.report(job_id, "another worker", "Analysing")  # not its job: it must stop
    assert queue.request_cancel(job_id, "someone@else.org") is None  # only the owner cancels
    assert queue.request_cancel(job_id, "a@school.org") == RUNNING  # its worker ends it
    assert not queue.report(job_id, "w", "Analysing")
    assert queue.mark_cancelled(job_id) and queue.get(job_id).state == CANCELLED


def test_a_queued_job_cancelled_never_starts(queue: JobQueue) -> None:
    job_id = _enqueue(queue)
    assert queue.request_cancel(job_id, "a@school.org") == CANCELLED
    assert queue.claim("w", "sessions/x") is None
    assert not queue.mark_cancelled(job_id)  # already over: nothing changes twice


def test_a_job_and_its_session_are_stored_together_or_not_at_all(store: SessionStore, queue: JobQueue) -> None:
    job_id = _enqueue(queue)
    queue.claim("w", "sessions/x")
    # a worker thought gone (its job given to another) cannot store its result: the session is rolled back
    queue.requeue(job_id, "the server restarted")
    queue.claim("w2", "sessions/y")
    with pytest.raises(JobTakenBackError):
        store.save(
            name="late", source="upload", summary={}, timeline=_no_bins(), tracks_table=_no_tracks(),
            also=lambda connection, session_id: queue.mark_done(connection, job_id, "w", session_id),
        )  # fmt: skip
    assert store.list() == []
    session_id = store.save(
        name="Maths", source="upload", summary={}, timeline=_no_bins(), tracks_table=_no_tracks(),
        also=lambda connection, session_id: queue.mark_done(connection, job_id, "w2", session_id),
    )  # fmt: skip
    job = queue.get(job_id)
    assert (job.state, job.session_id, job.progress, job.finished is not None) == (DONE, session_id, 1.0, True)


def test_a_stopped_attempt_is_restarted_and_fails_with_a_reason_after_the_last(queue: JobQueue) -> None:
    job_id = _enqueue(queue)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        queue.claim(f"w{attempt}", f"sessions/{attempt}")
        assert [job.id for job in queue.orphans("the next worker")] == [job_id]
        assert queue.orphans(f"w{attempt}") == []  # its own running job is no orphan
        expected = QUEUED if attempt < MAX_ATTEMPTS else FAILED
        assert queue.requeue(job_id, "its analysis process stopped") == expected
    job = queue.get(job_id)
    assert job.attempts == MAX_ATTEMPTS and "stopped, 3 times" in job.error


def test_a_clean_shutdown_does_not_count_as_an_attempt(queue: JobQueue) -> None:
    job_id = _enqueue(queue)
    queue.claim("w", "sessions/x")
    assert queue.requeue(job_id, "the server restarted", count_attempt=False) == QUEUED
    assert queue.get(job_id).attempts == 0 and queue.get(job_id).stage.startswith("Waiting to restart")


def test_a_teacher_sees_their_active_and_recent_jobs_only(queue: JobQueue, store: SessionStore) -> None:
    mine, theirs, old = _enqueue(queue), _enqueue(queue, owner="b@school.org"), _enqueue(queue, name="old")
    assert [job.id for job in queue.listed("a@school.org")] == [old, mine]  # newest first
    assert [job.id for job in queue.listed(None)] == [old, theirs, mine]
    queue.request_cancel(old, "a@school.org")
    with store.engine.begin() as connection:  # cancelled two days ago
        finished = queue.get(old).finished - timedelta(days=2)
        connection.execute(sa.update(jobs).where(jobs.c.id == old).values(finished=finished))
    assert [job.id for job in queue.listed("a@school.org")] == [mine]
    queue.request_cancel(mine, "a@school.org")
    queue.dismiss(theirs, "a@school.org")  # not theirs to hide
    queue.dismiss(mine, "a@school.org")
    assert queue.listed("a@school.org") == [] and [job.id for job in queue.listed("b@school.org")] == [theirs]
    assert queue.active_for_file("b@school.org", "ab" * 32).id == theirs
    assert queue.active_for_file("a@school.org", "ab" * 32) is None and queue.uses_upload(f"uploads/{'ab' * 32}.mp4")


def _no_bins() -> pd.DataFrame:
    return pd.DataFrame(columns=[c.name for c in timeline_bins.c if c.name != "session_id"])


def _no_tracks() -> pd.DataFrame:
    return pd.DataFrame(columns=[c.name for c in tracks.c if c.name != "session_id"])
