"""The teacher's analyses in every page's sidebar (fer.app.job_list), through app.py with AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fer.app import job_list
from fer.engine.analyze import Progress
from fer.engine.pipeline import AnalysisSettings
from fer.sessions.jobs import CANCELLED, JobQueue
from fer.sessions.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> JobQueue:
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    return JobQueue(SessionStore().engine)


@pytest.fixture
def worker_starts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """No real worker: these jobs have no upload. The worker itself is tested in tests/sessions."""
    starts: list[int] = []
    monkeypatch.setattr(job_list, "ensure_worker", lambda: starts.append(1))
    return starts


def _job(queue: JobQueue, name: str, owner: str = "local") -> int:
    return queue.enqueue(owner=owner, name=name, upload="uploads/x.mp4", settings=AnalysisSettings().to_dict())


def _sidebar_text(app: AppTest) -> str:
    return " ".join(e.value.replace("\\", "") for e in [*app.sidebar.markdown, *app.sidebar.caption])


def test_every_page_shows_the_teachers_jobs_with_progress_cancel_and_the_report_link(
    queue: JobQueue, worker_starts: list[int], routed: None
) -> None:
    running, failed, waiting = _job(queue, "Maths"), _job(queue, "Physics"), _job(queue, "Chemistry")
    _job(queue, "Someone else's", owner="b@school.org")
    queue.claim("w", "sessions/a")
    queue.report(running, "w", "Analysing", Progress(100, 150.0, 600.0, 50.0))
    queue.claim("w", "sessions/b")
    queue.fail(failed, "This file could not be analysed: no video stream in notes.mp4.")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    text = _sidebar_text(app)
    assert "Maths" in text and "Physics" in text and "Chemistry" in text and "Someone else" not in text
    assert "no video stream in notes.mp4" in text and "Next to start" in text
    (bar,) = app.sidebar.get("progress")
    assert bar.proto.value == 25 and bar.proto.text == "2:30 of 10:00 analysed, about 2:30 left"
    assert worker_starts  # jobs wait: a worker is made sure of
    next(b for b in app.sidebar.button if b.key == f"sidebar-cancel-{waiting}").click()
    app.run()
    assert queue.get(waiting).state == CANCELLED  # it was queued: cancelled at once
    next(b for b in app.sidebar.button if b.key == f"sidebar-hide-{failed}").click()
    app.run()
    assert "Physics" not in _sidebar_text(app)


def test_a_done_job_links_to_its_report_and_nothing_shows_without_jobs(
    queue: JobQueue, worker_starts: list[int]
) -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert "Your analyses" not in _sidebar_text(app) and not worker_starts
    store = SessionStore()
    job_id = _job(queue, "Maths")
    queue.claim("w", "sessions/a")
    with store.engine.begin() as connection:
        queue.mark_done(connection, job_id, "w", 41)
    app.run()
    (link,) = app.sidebar.get("page_link")
    assert (link.proto.label, link.proto.page, link.proto.query_string) == (
        "Done: open the report",
        "reports",
        "session=41",
    )
    assert not worker_starts


@pytest.mark.parametrize(
    "stage, progress, says",
    [
        ("Loading the models", None, "Loading the models…"),
        ("Analysing", Progress(10, 75.0, 0.0, 5.0), "1:15 analysed"),  # a container that does not say its length
        ("Analysing", Progress(10, 3725.0, 7200.0, 100.0), "1:02:05 of 2:00:00 analysed, about 1:33 left"),
    ],
)
def test_progress_reads_as_lesson_time(queue: JobQueue, stage: str, progress: Progress | None, says: str) -> None:
    job_id = _job(queue, "Maths")
    queue.claim("w", "sessions/a")
    queue.report(job_id, "w", stage, progress)
    assert job_list.progress_text(queue.get(job_id)) == says


def test_running_jobs_come_first_then_the_queue_in_order_then_the_finished_newest_first(queue: JobQueue) -> None:
    names = ["done early", "running", "done late", "queued first", "queued second"]
    ids = dict(zip(names, (_job(queue, name) for name in names), strict=True))
    for name in ("done early", "running", "done late"):
        queue.claim(name, f"sessions/{name}")  # claims the oldest queued one: each name's own job, in this order
    for name in ("done early", "done late"):
        queue.fail(ids[name], "for the test")
    order = [job.name for job in job_list.in_reading_order(queue.listed("local"))]
    assert order == ["running", "queued first", "queued second", "done late", "done early"]
