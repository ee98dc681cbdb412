"""The annotated video made on request as a job: done into the session's folder, failed with the reason, or
cancelled leaving nothing."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from fer.engine.classifier import EmotionClassifier
from fer.engine.outputs import ANNOTATED_VIDEO
from fer.engine.pipeline import AnalysisSettings
from fer.sessions.jobs import CANCELLED, DONE, FAILED, JobQueue
from fer.sessions.render_jobs import active_render, request_render, run_render
from fer.sessions.store import SessionStore
from fer.sessions.workflow import analyse_and_store, save_upload
from tests.conftest import write_face_clip

WORKER = "test-worker"


@pytest.fixture
def analysed(tmp_path: Path, classifier: EmotionClassifier) -> tuple[SessionStore, JobQueue, int, Path, Path]:
    """An upload analysed as the app's jobs do for a browser-playable recording: no annotated video."""
    clip = write_face_clip(tmp_path / "clip.mp4", frames=30, fps=10.0)
    with clip.open("rb") as stream:
        upload, sha256 = save_upload(stream, "lesson.mp4", tmp_path / "uploads")
    store = SessionStore(f"sqlite:///{tmp_path / 'sessions.db'}")
    session_id, _ = analyse_and_store(
        upload, name="Maths", store=store, data_folder=tmp_path, settings=AnalysisSettings(profile="fast"),
        classifier=classifier, source_name="lesson.mp4", source_sha256=sha256, write_video=False,
    )  # fmt: skip
    return store, JobQueue(store.engine), session_id, upload, tmp_path


def _claimed_render(store: SessionStore, queue: JobQueue, session_id: int, upload: Path, data: Path):
    job_id = request_render(queue, store.get(session_id), upload, data, owner="t@school.org")
    assert active_render(queue, session_id).id == job_id  # asked for once, not twice
    job = queue.claim(WORKER, "sessions/unused")
    assert job.id == job_id
    return job


def test_a_requested_video_is_made_into_the_sessions_folder_and_the_job_done(analysed) -> None:
    store, queue, session_id, upload, data = analysed
    job = _claimed_render(store, queue, session_id, upload, data)
    run_render(job, WORKER, store, queue, data)
    done = queue.get(job.id)
    assert done.state == DONE and done.session_id == session_id  # its "open the report" link
    video = store.get(session_id).artifacts(data) / ANNOTATED_VIDEO
    with av.open(str(video)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 30  # every frame of the recording
    assert active_render(queue, session_id) is None


def test_a_render_of_a_deleted_session_fails_with_the_reason(analysed) -> None:
    store, queue, session_id, upload, data = analysed
    job = _claimed_render(store, queue, session_id, upload, data)
    store.delete(session_id)
    run_render(job, WORKER, store, queue, data)
    failed = queue.get(job.id)
    assert failed.state == FAILED and "deleted" in failed.error


def test_a_cancelled_render_stops_and_leaves_no_file(analysed, monkeypatch: pytest.MonkeyPatch) -> None:
    import fer.sessions.render_jobs as render_jobs

    store, queue, session_id, upload, data = analysed
    job = _claimed_render(store, queue, session_id, upload, data)
    monkeypatch.setattr(render_jobs, "REPORT_EVERY_S", 0.0)  # ask at every frame
    queue.request_cancel(job.id, "t@school.org")
    run_render(job, WORKER, store, queue, data)
    assert queue.get(job.id).state == CANCELLED
    folder = store.get(session_id).artifacts(data)
    assert not (folder / ANNOTATED_VIDEO).exists() and not list(folder.glob("*.partial.mp4"))
