"""The job worker: runs queued analyses outside Streamlit, so they go on when the tab closes or the page changes.

One worker process per data folder (a lock file says which), started by the app when there is work
(``start_worker``) or by hand (``fer worker``). It runs up to ``parallel`` jobs at once, each in its own process
with ``cores / parallel`` onnxruntime threads, so jobs do not oversubscribe the cores. A job process that dies
(killed, out of memory) has its job put back in the queue; a worker that dies leaves its jobs ``running``, and the
next worker puts them back (``recover``): a job is restarted, never silently lost. A job process also stops when
its worker is gone, so a restarted job never runs twice. Cancelling stops the job's process at once.
With ``FER_RAY_ADDRESS`` set, each job's analysis runs as time segments on that Ray cluster.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from fer.engine.analyze import AnalysisCancelled, Progress
from fer.engine.outputs import OutputError
from fer.engine.video_io import VideoError, browser_playable
from fer.engine.workers import local_cores, ray_address
from fer.sessions.jobs import MAX_ATTEMPTS, QUEUED, Job, JobQueue, JobTakenBackError
from fer.sessions.store import DATA_DIR_ENV, DATABASE_URL_ENV, DatabaseGoneError, SessionStore, problem
from fer.sessions.workflow import SaveFailedError, new_artifacts_dir

PARALLEL_ENV = "FER_JOB_WORKERS"
IDLE_EXIT_ENV = "FER_JOB_IDLE_EXIT_S"  # a worker with nothing to do for this long (default 60 s) exits; the app
# starts one again for new work
POLL_S = 0.5
REPORT_EVERY_S = 1.0  # progress written to the database at most this often (and a cancel noticed this fast)
STORE_RETRIES = 6  # a database that does not answer when the results are ready: retried for about 2 minutes
STORE_RETRY_S = 5.0  # the first wait; each next one is longer

log = logging.getLogger("fer.jobs")


def default_parallel() -> int:
    """Jobs at once: ``$FER_JOB_WORKERS``, else half the cores (one analysis keeps about 1.6 cores busy)."""
    given = os.environ.get(PARALLEL_ENV)
    wanted = int(given) if given and given.isdigit() else local_cores() // 2
    return max(1, min(wanted, local_cores()))


def default_idle_exit_s() -> float:
    given = os.environ.get(IDLE_EXIT_ENV, "")
    try:
        return max(float(given), 0.0) if given else 60.0
    except ValueError:
        return 60.0


@dataclass(frozen=True)
class WorkerConfig:
    data_folder: Path
    database_url: str
    parallel: int = 1
    idle_exit_s: float = 60.0

    @property
    def threads(self) -> int:
        """onnxruntime threads per job: the cores shared among the jobs running at once."""
        return max(1, local_cores() // self.parallel)


def lock_path(data_folder: Path) -> Path:
    return data_folder / "jobs" / "worker.lock"


@contextlib.contextmanager
def worker_lock(data_folder: Path, wait_s: float = 0.0) -> Iterator[bool]:
    """Hold the data folder's worker lock while inside; yields False (at once, or after ``wait_s``) when another
    process holds it. The operating system releases it when its holder dies, however it dies."""
    path = lock_path(data_folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.1)
            else:
                break
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def worker_running(data_folder: Path) -> bool:
    with worker_lock(data_folder) as free:
        return not free


def start_worker(data_folder: Path, database_url: str) -> bool:
    """Start a worker process for this data folder unless one runs; True if one was started. Its output goes to
    ``jobs/worker.log`` in the data folder."""
    if worker_running(data_folder):
        return False
    log_file = data_folder / "jobs" / "worker.log"
    env = {**os.environ, DATA_DIR_ENV: str(data_folder), DATABASE_URL_ENV: database_url}
    with log_file.open("ab") as output:
        command = [sys.executable, "-m", "fer", "worker"]
        process = subprocess.Popen(command, env=env, stdout=output, stderr=output, stdin=subprocess.DEVNULL)
    # reaped the moment it exits (it leaves by itself once idle): no <defunct> children of the server
    threading.Thread(target=process.wait, name="fer-worker-reaper", daemon=True).start()
    return True


def run_worker(config: WorkerConfig) -> int:
    """Run jobs until none is left for ``idle_exit_s``; returns 0, at once if another worker holds the lock."""
    with worker_lock(config.data_folder, wait_s=2.0) as mine:
        if not mine:
            log.info("another worker runs for %s", config.data_folder)
            return 0
        try:
            worker = _Worker(config)
        except DatabaseGoneError as error:  # never a new empty database in its place: the app says what to do
            log.error("database: %s", error)
            return 1
        return worker.run()


class _Worker:
    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self.token = uuid.uuid4().hex
        self.store = SessionStore(config.database_url, create=False)
        self.queue = JobQueue(self.store.engine)
        self.running: dict[int, multiprocessing.process.BaseProcess] = {}
        self.ended: dict[int, int | None] = {}  # job id: exit code, of processes whose job is not settled yet
        self.stopping = False
        self.recovered = False

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        log.info("worker %s: %d job(s) at once, %d threads each", self.token[:8], self.config.parallel,
                 self.config.threads)  # fmt: skip
        idle_since = time.monotonic()
        database = _OutageLog()
        while not self.stopping:
            try:
                self._step()
            except (sa.exc.SQLAlchemyError, DatabaseGoneError) as error:  # busy or away: the jobs wait, none is lost
                database.failed(problem(error, self.config.database_url) or type(error).__name__)
            else:
                database.answered()
            if self.running:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > self.config.idle_exit_s:
                break
            time.sleep(POLL_S)
        self._shut_down()
        return 0

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def _step(self) -> None:
        # processes that ended leave ``running`` first, so a database that is away cannot keep the worker busy
        for job_id, process in list(self.running.items()):
            if not process.is_alive():
                process.join()
                del self.running[job_id]
                self.ended[job_id] = process.exitcode
        if not self.recovered:  # a worker before this one stopped mid-job: its jobs start again
            for job in self.queue.orphans(self.token):
                state = self.queue.requeue(job.id, "the server restarted")
                self._clean(job, drop_upload=state != QUEUED)
                log.info("job %d: taken back (%s)", job.id, state)
            self.recovered = True
        for job_id in self.queue.cancel_requested(self.token):
            if job_id in self.running:
                self._end_process(job_id)
            job = self.queue.get(job_id)
            if job is not None and self.queue.mark_cancelled(job_id):  # not if it was done meanwhile
                self._clean(job, drop_upload=True)
                log.info("job %d: cancelled", job_id)
        for job_id, exitcode in list(self.ended.items()):
            self._settle(job_id, exitcode)
            del self.ended[job_id]
        while len(self.running) < self.config.parallel and not self.stopping:
            artifacts = new_artifacts_dir(self.config.data_folder)
            job = self.queue.claim(self.token, str(artifacts.relative_to(self.config.data_folder)))
            if job is None:
                break
            self._start(job)

    def _start(self, job: Job) -> None:
        context = multiprocessing.get_context("spawn")  # a clean interpreter: safe with onnxruntime's threads
        config = self.config
        process = context.Process(
            target=run_job,
            args=(job.id, self.token, config.data_folder, config.database_url, config.threads),
            name=f"fer-job-{job.id}",
        )
        process.start()
        self.running[job.id] = process
        log.info("job %d: started (attempt %d of %d), process %d", job.id, job.attempts, MAX_ATTEMPTS, process.pid)

    def _settle(self, job_id: int, exitcode: int | None) -> None:
        """After a job's process ended: if it died without saying how the job ended, the job starts again."""
        job = self.queue.get(job_id)
        if job is not None and job.state == "running" and job.worker == self.token:
            why = f"its analysis process stopped (exit code {exitcode}; out of memory?)"
            state = self.queue.requeue(job_id, why)
            self._clean(job, drop_upload=state != QUEUED)  # failed for good, or cancelled: its upload goes too
            log.warning("job %d: %s: %s", job_id, why, state)

    def _end_process(self, job_id: int) -> None:
        process = self.running.pop(job_id)
        process.terminate()
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join()

    def _clean(self, job: Job, drop_upload: bool = False) -> None:
        """Remove what a job's unfinished attempt wrote, and (``drop_upload``) its upload if nothing needs it."""
        folder = self.config.data_folder
        if job.artifacts_dir:
            shutil.rmtree(folder / job.artifacts_dir, ignore_errors=True)
        if drop_upload:
            drop_unused_upload(job, self.queue, self.store, folder)

    def _shut_down(self) -> None:
        """Stopped (the server shuts down): running jobs go back to the queue for the next worker."""
        for job_id in list(self.running):
            self._end_process(job_id)
            try:
                job = self.queue.get(job_id)
                if job is not None and job.state == "running":
                    self._clean(job)
                    self.queue.requeue(job_id, "the server restarted", count_attempt=False)
            except sa.exc.SQLAlchemyError:  # the next worker takes the job back instead
                log.warning("job %d: left for the next worker (the database did not answer)", job_id)
        log.info("worker %s: stopped", self.token[:8])


class _OutageLog:
    """While the database is away the worker retries every ``POLL_S``: it says so once, then once a minute with
    how long it has lasted, and when it answers again, instead of a line every half second."""

    EVERY_S = 60.0

    def __init__(self) -> None:
        self.since: float | None = None
        self.said = 0.0

    def failed(self, why: str) -> None:
        now = time.monotonic()
        if self.since is None:
            self.since = now
        if now - self.said >= self.EVERY_S or self.said < self.since:
            self.said = now
            log.warning("database: %s (for %.0f s; jobs wait, nothing is lost)", why, now - self.since)

    def answered(self) -> None:
        if self.since is not None:
            log.warning("database: answering again after %.0f s", time.monotonic() - self.since)
            self.since = None


def drop_unused_upload(job: Job, queue: JobQueue, store: SessionStore, data_folder: Path) -> None:
    """Delete a job's upload unless a stored session came from the same file or another active job needs it."""
    if job.source_sha256 and store.shares_source(job.source_sha256):
        return
    if not queue.uses_upload(job.upload):
        (data_folder / job.upload).unlink(missing_ok=True)


def run_job(job_id: int, worker: str, data_folder: Path, database_url: str, threads: int) -> None:
    """A job's process: analyse the upload and store the session, the job marked done in the same transaction;
    or record why not. Exits with the worker: a job restarted elsewhere never runs twice. A recording browsers play
    as it is gets no annotated video: the report plays it with the boxes drawn over it (``fer.app.player``)."""
    from fer.engine.classifier import EmotionClassifier
    from fer.engine.pipeline import AnalysisSettings, settings_detector
    from fer.sessions.render_jobs import is_render, run_render
    from fer.sessions.workflow import analyse_and_store

    _exit_with_parent()
    store = SessionStore(database_url, create=False)
    queue = JobQueue(store.engine)
    job = queue.get(job_id)
    if is_render(job):
        run_render(job, worker, store, queue, data_folder)
        return
    settings = AnalysisSettings.from_dict(job.settings)
    reported = [0.0]

    def report(progress: Progress) -> None:
        if time.monotonic() - reported[0] < REPORT_EVERY_S:
            return
        reported[0] = time.monotonic()
        if not queue.report(job_id, worker, "Analysing", progress):
            raise AnalysisCancelled

    def mark_done(connection: sa.Connection, session_id: int) -> None:
        queue.mark_done(connection, job_id, worker, session_id)

    video = data_folder / job.upload
    if not video.is_file():  # e.g. a server whose disk does not persist was restarted meanwhile
        gone = "The uploaded file is no longer on the server (its disk was reset); upload it again."
        queue.fail(job_id, gone, worker)
        return
    queue.report(job_id, worker, "Loading the models")
    try:
        analyse_and_store(
            video, name=job.name, store=store, data_folder=data_folder, settings=settings,
            classifier=EmotionClassifier(threads=threads, profile=settings.profile),
            detector=settings_detector(settings, threads),
            source_name=job.source_name, source_sha256=job.source_sha256, on_progress=report, owner=job.owner,
            artifacts=data_folder / job.artifacts_dir, ray_address=ray_address(),
            also=mark_done, write_video=not browser_playable(video),
        )  # fmt: skip
    except AnalysisCancelled:
        queue.mark_cancelled(job_id)  # if it was cancelled; if it was taken back, the worker that took it runs it
        drop_unused_upload(job, queue, store, data_folder)
    except VideoError as error:
        shown = job.source_name or "the file"  # the teacher's name for it: never our path or hashed copy's name
        reason = str(error).replace(str(video), shown).replace(video.name, shown)
        queue.fail(job_id, f"This file could not be analysed: {reason}. Check that it plays in a video player.", worker)
        drop_unused_upload(job, queue, store, data_folder)
    except OutputError as error:
        queue.fail(job_id, f"The results could not be written: {error}. Check the free disk space.", worker)
        drop_unused_upload(job, queue, store, data_folder)
    except SaveFailedError as error:
        if isinstance(error.__cause__, JobTakenBackError):  # another worker runs it now: this result is not needed
            shutil.rmtree(error.unsaved.artifacts, ignore_errors=True)
            return
        _store_again(error, store, mark_done)
    except Exception as error:  # recorded for the teacher, never a traceback on a page
        log.exception("job %d failed", job_id)
        queue.fail(job_id, f"The analysis failed ({type(error).__name__}: {error}). Nothing was stored.", worker)
        drop_unused_upload(job, queue, store, data_folder)


def _store_again(failed: SaveFailedError, store: SessionStore, also: Callable[[sa.Connection, int], None]) -> None:
    """The analysis is done but the database did not answer: try again for a while; if it stays away, exit with
    an error so the worker restarts the job once the database is back (the analysis is redone, nothing is lost)."""
    for attempt in range(STORE_RETRIES):
        time.sleep(STORE_RETRY_S * (attempt + 1) / 2)
        try:
            failed.unsaved.store_in(store, also)
        except Exception as error:  # still away
            log.warning("storing failed again (%s)", type(error).__name__)
        else:
            return
    shutil.rmtree(failed.unsaved.artifacts, ignore_errors=True)
    raise SystemExit(3)


def _exit_with_parent() -> None:
    """Stop this process when the worker that started it is gone (killed, however): the next worker restarts
    the job, and two copies of one job must never run."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(4)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
