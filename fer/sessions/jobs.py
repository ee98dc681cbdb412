"""Analyses as jobs in the session database: queued, running (with progress), done, failed or cancelled.

The page that takes an upload only ``enqueue``s it; a worker process outside Streamlit (``fer.sessions.job_worker``)
``claim``s jobs and runs them, so an analysis goes on when the tab is closed. Every state change is one guarded
UPDATE, so two workers (or a worker and a teacher's Cancel) never both win: a job is claimed once, and a job
cancelled while queued never starts. A worker that stopped mid-job (killed, out of memory, a server restart) is
noticed by the next one, which puts its jobs back in the queue (``recover``): a job is restarted, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from fer.engine.analyze import Progress
from fer.sessions.migrations import MAX_NAME, jobs

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
MAX_ATTEMPTS = 3  # a job whose worker stopped this often is failed, not retried forever (e.g. it runs out of memory)


class JobTakenBackError(RuntimeError):
    """The job was given to another worker (this one was thought gone): its result must not be stored."""


@dataclass(frozen=True)
class Job:
    id: int
    owner: str
    name: str
    source_name: str | None
    source_sha256: str | None
    upload: str  # relative to the data folder
    settings: dict
    state: str
    stage: str
    progress: float  # share of the recording analysed, 0..1
    video_time_s: float | None
    duration_s: float | None
    eta_s: float | None
    error: str | None
    session_id: int | None
    created: datetime
    started: datetime | None
    finished: datetime | None
    attempts: int
    cancel_requested: bool
    worker: str | None
    artifacts_dir: str | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


class JobQueue:
    """The jobs table of the database behind ``engine`` (a ``SessionStore``'s)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def enqueue(
        self,
        *,
        owner: str,
        name: str,
        upload: str,
        settings: dict,
        source_name: str | None = None,
        source_sha256: str | None = None,
    ) -> int:
        name = name.strip()[:MAX_NAME] or "Untitled session"
        values = dict(owner=owner, name=name, upload=upload, settings=settings, source_name=source_name)
        values.update(source_sha256=source_sha256, state=QUEUED, created=_now())
        with self.engine.begin() as connection:
            return int(connection.execute(sa.insert(jobs).values(**values)).inserted_primary_key[0])

    def get(self, job_id: int, owner: str | None = None) -> Job | None:
        query = sa.select(jobs).where(jobs.c.id == job_id)
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return _job(row) if row else None

    def listed(self, owner: str | None, finished_within: timedelta = timedelta(days=1)) -> list[Job]:
        """What a teacher's job list shows, newest first: every active job, and those finished within
        ``finished_within`` that were not dismissed (all teachers' when ``owner`` is None)."""
        since = _now() - finished_within
        shown = sa.or_(jobs.c.state.in_(ACTIVE), sa.and_(jobs.c.finished >= since, jobs.c.dismissed == sa.false()))
        query = sa.select(jobs).where(shown).order_by(jobs.c.id.desc())
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        with self.engine.connect() as connection:
            return [_job(row) for row in connection.execute(query)]

    def active_for_file(self, owner: str, sha256: str) -> Job | None:
        """The owner's queued or running job of a file with this content, if any (an upload is not queued twice)."""
        query = sa.select(jobs).where(jobs.c.owner == owner, jobs.c.source_sha256 == sha256, jobs.c.state.in_(ACTIVE))
        with self.engine.connect() as connection:
            row = connection.execute(query.order_by(jobs.c.id)).first()
        return _job(row) if row else None

    def active(self) -> list[Job]:
        """Every queued or running job, oldest first (everyone's)."""
        with self.engine.connect() as connection:
            return [_job(row) for row in connection.execute(sa.select(jobs).where(jobs.c.state.in_(ACTIVE)))]

    def uses_upload(self, upload: str) -> bool:
        """Whether an active job still needs this upload (a cancelled job's file may serve another's)."""
        query = sa.select(jobs.c.id).where(jobs.c.upload == upload, jobs.c.state.in_(ACTIVE))
        with self.engine.connect() as connection:
            return connection.execute(query.limit(1)).first() is not None

    def claim(self, worker: str, artifacts_dir: str) -> Job | None:
        """Take the oldest queued job for ``worker``, its files to go to ``artifacts_dir``; None when none waits."""
        with self.engine.connect() as connection:
            waiting = connection.execute(
                sa.select(jobs.c.id).where(jobs.c.state == QUEUED).order_by(jobs.c.id).limit(20)
            ).scalars()
            candidates = list(waiting)
        for job_id in candidates:
            now = _now()
            won = self._change(
                job_id,
                QUEUED,
                state=RUNNING, worker=worker, started=now, heartbeat=now, artifacts_dir=artifacts_dir,
                attempts=jobs.c.attempts + 1, progress=0.0, video_time_s=None, eta_s=None, stage="Starting",
            )  # fmt: skip
            if won:
                return self.get(job_id)
        return None

    def report(self, job_id: int, worker: str, stage: str, progress: Progress | None = None) -> bool:
        """Record how far the job got (and that its worker is alive); returns False when the job should stop:
        cancelled, or taken back from this worker."""
        values: dict = {"stage": stage[:200], "heartbeat": _now()}
        if progress is not None:
            values.update(progress=progress.fraction, video_time_s=progress.video_time_s, eta_s=progress.eta_s)
            values.update(duration_s=progress.duration_s or None)
        with self.engine.begin() as connection:
            changed = connection.execute(
                sa.update(jobs)
                .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.state == RUNNING)
                .values(**values)
            ).rowcount
            cancelled = connection.execute(sa.select(jobs.c.cancel_requested).where(jobs.c.id == job_id)).scalar()
        return changed == 1 and not cancelled

    def mark_done(self, connection: sa.Connection, job_id: int, worker: str, session_id: int) -> None:
        """Within the transaction that stores the session: the job and its session exist together or not at all.
        Raises ``JobTakenBackError`` (rolling the session back) if the job is no longer this worker's."""
        changed = connection.execute(
            sa.update(jobs)
            .where(jobs.c.id == job_id, jobs.c.worker == worker, jobs.c.state == RUNNING)
            .values(state=DONE, session_id=session_id, finished=_now(), progress=1.0, eta_s=None, stage="Done")
        ).rowcount
        if changed != 1:
            raise JobTakenBackError(f"job {job_id} is no longer this worker's")

    def fail(self, job_id: int, reason: str, worker: str | None = None) -> None:
        """Record why a running job failed (only if still ``worker``'s, when given)."""
        guards = {} if worker is None else {"worker": worker}
        self._change(job_id, RUNNING, guards, state=FAILED, error=reason[:1000], finished=_now(), stage="Failed")

    def request_cancel(self, job_id: int, owner: str | None) -> str | None:
        """Cancel a job of ``owner``'s: a queued one at once, a running one by its worker within a second or two.
        Returns the job's state after the request (None: no such job of theirs)."""
        job = self.get(job_id, owner)
        if job is None:
            return None
        if job.state == QUEUED and self._change(job_id, QUEUED, state=CANCELLED, finished=_now()):
            return CANCELLED
        if job.state == RUNNING:
            with self.engine.begin() as connection:
                connection.execute(sa.update(jobs).where(jobs.c.id == job_id).values(cancel_requested=True))
            return RUNNING
        return self.get(job_id).state

    def mark_cancelled(self, job_id: int) -> bool:
        """End a running job whose cancelling was asked for; True if this call ended it."""
        guards = {"cancel_requested": True}
        return self._change(job_id, RUNNING, guards, state=CANCELLED, finished=_now(), stage="Cancelled")

    def cancel_requested(self, worker: str) -> list[int]:
        """The running jobs of ``worker`` a teacher asked to cancel."""
        query = sa.select(jobs.c.id).where(jobs.c.worker == worker, jobs.c.state == RUNNING, jobs.c.cancel_requested)
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def requeue(self, job_id: int, why: str, count_attempt: bool = True) -> str:
        """A running job whose attempt stopped goes back to the queue, or fails after ``MAX_ATTEMPTS``; returns
        the new state. A worker shutting down cleanly does not ``count_attempt``: the job did nothing wrong."""
        job = self.get(job_id)
        if job is None or job.state != RUNNING:
            return job.state if job else FAILED
        if job.cancel_requested:
            self.mark_cancelled(job_id)
            return CANCELLED
        if count_attempt and job.attempts >= MAX_ATTEMPTS:
            self.fail(job_id, f"{why}, {job.attempts} times; the recording may be too large for this server")
            return FAILED
        attempts = jobs.c.attempts - (0 if count_attempt else 1)
        self._change(
            job_id, RUNNING, state=QUEUED, worker=None, artifacts_dir=None, progress=0.0, attempts=attempts,
            stage=f"Waiting to restart ({why})",
        )  # fmt: skip
        return QUEUED

    def orphans(self, worker: str) -> list[Job]:
        """Running jobs of any worker but ``worker``: with one worker at a time (its lock), theirs has stopped."""
        query = sa.select(jobs).where(jobs.c.state == RUNNING, sa.or_(jobs.c.worker.is_(None), jobs.c.worker != worker))
        with self.engine.connect() as connection:
            return [_job(row) for row in connection.execute(query)]

    def dismiss(self, job_id: int, owner: str | None) -> None:
        """Hide a finished job from the list (its session, if any, stays in Reports)."""
        query = sa.update(jobs).where(jobs.c.id == job_id, jobs.c.state.not_in(ACTIVE))
        if owner is not None:
            query = query.where(jobs.c.owner == owner)
        with self.engine.begin() as connection:
            connection.execute(query.values(dismissed=True))

    def forget_finished(self, before: datetime) -> int:
        """Delete the rows of jobs that ended before ``before`` (their sessions stay); returns how many."""
        query = sa.delete(jobs).where(jobs.c.state.not_in(ACTIVE), jobs.c.finished < before)
        with self.engine.begin() as connection:
            return connection.execute(query).rowcount

    def _change(self, job_id: int, expected_state: str, guards: dict | None = None, **values: object) -> bool:
        """Set ``values`` if the job is still in ``expected_state`` and its columns equal ``guards``; True if it
        was: this caller won."""
        query = sa.update(jobs).where(jobs.c.id == job_id, jobs.c.state == expected_state)
        for name, value in (guards or {}).items():
            query = query.where(jobs.c[name] == value)
        with self.engine.begin() as connection:
            return connection.execute(query.values(**values)).rowcount == 1


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _job(row: sa.Row) -> Job:
    return Job(
        id=row.id,
        owner=row.owner,
        name=row.name,
        source_name=row.source_name,
        source_sha256=row.source_sha256,
        upload=row.upload,
        settings=row.settings,
        state=row.state,
        stage=row.stage,
        progress=row.progress,
        video_time_s=row.video_time_s,
        duration_s=row.duration_s,
        eta_s=row.eta_s,
        error=row.error,
        session_id=row.session_id,
        created=_aware(row.created),
        started=_aware(row.started),
        finished=_aware(row.finished),
        attempts=row.attempts,
        cancel_requested=bool(row.cancel_requested),
        worker=row.worker,
        artifacts_dir=row.artifacts_dir,
    )
