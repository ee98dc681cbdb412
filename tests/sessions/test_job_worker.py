"""The job worker (fer.sessions.job_worker) as it runs for the app: real worker processes on real clips, killed,
stopped and cancelled mid-job; and a job's process in this one, where faults can be injected."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import fer.sessions.job_worker as job_worker
from fer.engine.pipeline import AnalysisSettings
from fer.sessions.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, JobQueue
from fer.sessions.store import SessionStore
from fer.sessions.workflow import save_upload
from tests.conftest import write_face_clip

ROOT = Path(__file__).resolve().parents[2]


class Folder:
    """A data folder with its SQLite database, as the app keeps them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite:///{path / 'sessions.db'}"
        self.store = SessionStore(self.url)
        self.queue = JobQueue(self.store.engine)
        self.workers: list[subprocess.Popen] = []

    def enqueue(self, clip: Path, name: str, filename: str = "lesson.mp4") -> int:
        with clip.open("rb") as stream:
            upload, sha256 = save_upload(stream, filename, self.path / "uploads")
        return self.queue.enqueue(
            owner="t@school.org", name=name, upload=str(upload.relative_to(self.path)),
            settings=AnalysisSettings().to_dict(), source_name=filename, source_sha256=sha256,
        )  # fmt: skip

    def worker(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        env = {**os.environ, "FER_DATA_DIR": str(self.path), "FER_DATABASE_URL": self.url, **(env or {})}
        command = [sys.executable, "-m", "fer", "worker", "--idle-exit", "1", *args]
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.workers.append(process)
        return process

    def wait_for(self, job_id: int, until: Callable[[Job], bool], timeout: float = 180.0) -> Job:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.queue.get(job_id)
            if until(job):
                return job
            time.sleep(0.1)
        logs = b"".join(w.stdout.read() for w in self.workers if w.poll() is not None).decode(errors="replace")
        raise AssertionError(f"job {job_id} stuck at {self.queue.get(job_id)}\n{logs}")

    def session_folders(self) -> list[str]:
        return sorted(p.name for p in (self.path / "sessions").iterdir()) if (self.path / "sessions").is_dir() else []


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Folder]:
    data = Folder(tmp_path / "data")
    yield data
    for process in data.workers:
        if process.poll() is None:
            process.kill()
        process.wait()
    data.store.engine.dispose()


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 s of a face moving back and forth: several seconds of work at 8 readings a second, long enough to
    interrupt (30 s was sometimes done before the test's signal arrived)."""
    return write_face_clip(tmp_path_factory.mktemp("clips") / "long.mp4", frames=1000)


def _analysing(job: Job) -> bool:
    return job.state == RUNNING and (job.video_time_s or 0) > 2


def _over(job: Job) -> bool:
    return not job.active


def test_a_queued_recording_is_analysed_by_the_worker_and_stored(folder: Folder, face_clip: Path) -> None:
    job_id = folder.enqueue(face_clip, "Maths, period 2")
    worker = folder.worker()
    second = folder.worker()
    assert second.wait(30) == 0  # one worker per data folder: the second one leaves at once
    job = folder.wait_for(job_id, _over)
    assert (job.state, job.attempts, job.progress, job.error) == (DONE, 1, 1.0, None)
    stored = folder.store.get(job.session_id, "t@school.org")
    assert (stored.name, stored.source_name, stored.tracks) == ("Maths, period 2", "lesson.mp4", 1)
    assert stored.artifacts(folder.path) == folder.path / job.artifacts_dir
    # an MP4 browsers play: the report plays it with the boxes drawn over it, so no annotated copy is encoded
    assert (folder.path / job.artifacts_dir / "detections.csv").is_file()
    assert not (folder.path / job.artifacts_dir / "annotated.mp4").exists()
    assert worker.wait(30) == 0  # nothing more to do: it exits by itself


def test_killing_the_worker_mid_job_restarts_the_job_and_stores_it_once(folder: Folder, long_clip: Path) -> None:
    job_id = folder.enqueue(long_clip, "Physics")
    first = folder.worker()
    killed = folder.wait_for(job_id, _analysing)
    first.send_signal(signal.SIGKILL)  # no chance to tidy up: as a crash or an out-of-memory kill
    first.wait()
    assert folder.queue.get(job_id).state == RUNNING  # left behind, as after a real crash
    folder.worker()
    job = folder.wait_for(job_id, _over)
    assert (job.state, job.attempts) == (DONE, 2)
    assert [s.name for s in folder.store.list()] == ["Physics"]  # stored once: the first attempt stopped
    assert folder.session_folders() == [Path(job.artifacts_dir).name] != [Path(killed.artifacts_dir).name]
    assert folder.store.get(job.session_id).duration_s == pytest.approx(100, abs=0.2)


def test_a_worker_stopped_cleanly_puts_its_job_back_without_counting_it(folder: Folder, long_clip: Path) -> None:
    job_id = folder.enqueue(long_clip, "Chemistry")
    worker = folder.worker()
    folder.wait_for(job_id, _analysing)
    worker.send_signal(signal.SIGTERM)  # the server shutting down
    assert worker.wait(30) == 0
    job = folder.queue.get(job_id)
    assert (job.state, job.attempts, folder.session_folders()) == (QUEUED, 0, [])
    assert job.stage == "Waiting to restart (the server restarted)"


def test_cancelling_a_running_job_stops_it_and_keeps_nothing(folder: Folder, long_clip: Path) -> None:
    job_id = folder.enqueue(long_clip, "Biology")
    worker = folder.worker()
    folder.wait_for(job_id, _analysing)
    cancelled_at = time.monotonic()
    assert folder.queue.request_cancel(job_id, "t@school.org") == RUNNING
    job = folder.wait_for(job_id, _over, timeout=30)
    assert job.state == CANCELLED and time.monotonic() - cancelled_at < 10
    assert folder.store.list() == [] and folder.session_folders() == []
    assert list((folder.path / "uploads").iterdir()) == []  # no session needs the upload: it goes
    assert worker.wait(30) == 0


def test_two_jobs_run_at_once_and_a_bad_file_fails_alone_with_its_reason(folder: Folder, tmp_path: Path) -> None:
    clips = [write_face_clip(tmp_path / f"{n}.mp4", frames=200, fps=10.0 + n) for n in range(2)]
    bad = tmp_path / "notes.mp4"
    bad.write_bytes(b"this is not a video at all" * 100)
    ids = [folder.enqueue(clip, f"Lesson {n}") for n, clip in enumerate(clips)]
    bad_id = folder.enqueue(bad, "Notes", filename="notes.mp4")
    folder.worker("--parallel", "2")
    both = folder.wait_for(ids[0], lambda _job: all(folder.queue.get(i).state == RUNNING for i in ids))
    assert both.state == RUNNING
    for job_id in ids:
        assert folder.wait_for(job_id, _over).state == DONE
    failed = folder.wait_for(bad_id, _over)
    assert failed.state == FAILED and "could not be analysed" in failed.error and "notes.mp4" in failed.error
    assert sorted(s.name for s in folder.store.list()) == ["Lesson 0", "Lesson 1"]
    assert len(list((folder.path / "uploads").iterdir())) == 2  # the bad file's upload is gone


def test_a_worker_whose_database_breaks_still_leaves_once_idle(folder: Folder) -> None:
    worker = folder.worker()
    for line in worker.stdout:  # it has opened the database and waits for work
        if b"job(s) at once" in line:
            break
    (folder.path / "sessions.db").write_bytes(b"\x13\x37 not a database any more " * 1000)
    assert worker.wait(30) == 0


def test_with_a_ray_address_the_apps_jobs_run_on_ray(folder: Folder, long_clip: Path) -> None:
    pytest.importorskip("ray", reason="ray is not installed (requirements-dev.txt installs it)")
    job_id = folder.enqueue(long_clip, "Geography")
    folder.worker(env={"FER_RAY_ADDRESS": "local"})  # a Ray started on this machine, as a cluster would be
    job = folder.wait_for(job_id, _over, timeout=300)
    assert job.state == DONE, job.error
    summary = folder.store.get(job.session_id).summary
    # 100 s at 8 analysed frames a second: 1 segment, 800 frames
    assert (summary["workers"], summary["segments"], summary["frames_analysed"]) == ("Ray", 1, 800)
    assert len(folder.store.face_rows(job.session_id)) >= 770  # the sliding portrait, found in (nearly) every frame


def test_an_upload_gone_from_the_disk_fails_its_job_with_what_to_do(folder: Folder, face_clip: Path) -> None:
    job_id = folder.enqueue(face_clip, "Maths")
    for upload in (folder.path / "uploads").iterdir():
        upload.unlink()  # a server whose disk does not persist, restarted
    job = _run_in_this_process(folder, job_id)
    assert job.state == FAILED and job.error.endswith("upload it again.") and str(folder.path) not in job.error


def _run_in_this_process(folder: Folder, job_id: int) -> Job:
    """Claim the job and run its process's work here, where monkeypatches reach."""
    from fer.sessions.workflow import new_artifacts_dir

    artifacts = new_artifacts_dir(folder.path).relative_to(folder.path)
    assert folder.queue.claim("this process", str(artifacts)).id == job_id
    job_worker.run_job(job_id, "this process", folder.path, folder.url, 2)
    return folder.queue.get(job_id)


@pytest.mark.parametrize("writer", ["annotated video", "detections"])
def test_a_disk_filling_up_midway_fails_the_job_with_the_reason_and_keeps_nothing(
    writer: str, folder: Folder, face_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fer.engine.outputs import DetectionsCsv
    from fer.engine.video_io import H264Writer

    before = _run_in_this_process(folder, folder.enqueue(face_clip, "Stored before"))  # must stay untouched
    rows_before = len(folder.store.face_rows(before.session_id))
    other = write_face_clip(tmp_path / "other.mp4", fps=12.0)
    target = H264Writer if writer == "annotated video" else DetectionsCsv
    real, calls = target.write, [0]

    def write(*args: object) -> object:
        calls[0] += 1
        if calls[0] >= 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    monkeypatch.setattr(target, "write", write)
    # a recording browsers cannot play as it is gets its annotated video during the analysis
    monkeypatch.setattr(job_worker, "browser_playable", lambda _path: writer != "annotated video")
    job = _run_in_this_process(folder, folder.enqueue(other, "Physics"))
    assert job.state == FAILED and calls[0] >= 5  # the disk filled midway, after frames were written
    assert "could not be written" in job.error and "No space left on device" in job.error and "disk space" in job.error
    assert [s.name for s in folder.store.list()] == ["Stored before"]  # nothing half-stored
    assert len(folder.store.face_rows(before.session_id)) == rows_before
    assert folder.session_folders() == [Path(before.artifacts_dir).name]
    assert not list(folder.path.rglob("*.partial*"))
    (upload,) = (folder.path / "uploads").iterdir()  # the failed one's upload is gone: the room is given back
    assert upload.name == f"{folder.store.get(before.session_id).source_sha256}.mp4"


def test_a_database_that_does_not_answer_at_storing_is_retried_and_the_job_done(
    folder: Folder, face_clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    real, calls = SessionStore.save, [0]

    def busy_twice(*args: object, **kwargs: object) -> int:
        calls[0] += 1
        if calls[0] <= 2:
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(SessionStore, "save", busy_twice)
    monkeypatch.setattr(job_worker, "STORE_RETRY_S", 0.01)
    job = _run_in_this_process(folder, folder.enqueue(face_clip, "Maths"))
    assert (job.state, calls[0]) == (DONE, 3)
    assert [s.name for s in folder.store.list()] == ["Maths"]
    assert folder.session_folders() == [Path(job.artifacts_dir).name]


def _zombie_children() -> list[int]:
    """This process's children that exited and were never waited for (``<defunct>``)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            found.append(int(stat.parent.name))
    return found


def test_a_worker_the_app_started_is_reaped_when_it_exits(tmp_path: Path) -> None:
    """A worker started for a folder without a database leaves at once (it never creates one): the server that
    started it must not keep it as a zombie."""
    (tmp_path / "jobs").mkdir()
    assert job_worker.start_worker(tmp_path, f"sqlite:///{tmp_path / 'sessions.db'}")
    deadline = time.monotonic() + 30
    while "is not in" not in (tmp_path / "jobs" / "worker.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    assert _zombie_children() == []
