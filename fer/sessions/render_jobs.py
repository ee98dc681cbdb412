"""The annotated video on request: a job of its own in the jobs table, run by the same worker as analyses.

The report plays the teacher's recording with the boxes drawn in the browser, so an analysis encodes no second
copy of the lesson. A teacher who wants a file asks for it; the job draws the stored faces on every frame of the
recording (``fer.engine.render``) into the session's folder, where the downloads find it and retention removes it
with the session's other files. It needs the recording, so it can be made while the upload is kept.
"""

from __future__ import annotations

import time
from pathlib import Path

from fer.engine.analyze import AnalysisCancelled, Progress
from fer.engine.outputs import ANNOTATED_VIDEO
from fer.engine.render import BLUR_BOXES_CSV, FACE_COLUMNS, FaceTimeline, read_blur_boxes, render_annotated
from fer.sessions.jobs import Job, JobQueue
from fer.sessions.store import SessionStore, StoredSession

RENDER_OF = "render_of"  # the settings key that makes a job a render of that session
REPORT_EVERY_S = 1.0


def request_render(queue: JobQueue, stored: StoredSession, upload: Path, data_folder: Path, owner: str) -> int:
    """Queue the annotated video of ``stored`` from its kept recording ``upload``; returns the job's id."""
    return queue.enqueue(
        owner=owner,
        name=f"Annotated video: {stored.name}",
        upload=str(upload.relative_to(data_folder)),
        settings={RENDER_OF: stored.id, "blur": bool(stored.settings.get("blur"))},
        source_name=stored.source_name,
    )


def active_render(queue: JobQueue, session_id: int) -> Job | None:
    """The queued or running render of a session, if any (it is not asked for twice)."""
    return next((job for job in queue.active() if job.settings.get(RENDER_OF) == session_id), None)


def run_render(job: Job, worker: str, store: SessionStore, queue: JobQueue, data_folder: Path) -> None:
    """A render job's process: the video into the session's folder, the job done; or why not."""
    stored = store.get(int(job.settings[RENDER_OF]))
    folder = stored.artifacts(data_folder) if stored is not None else None
    recording = data_folder / job.upload
    if stored is None:
        queue.fail(job.id, "The session was deleted, so there is nothing to draw.", worker)
        return
    if folder is None or not folder.is_dir() or not recording.is_file():
        queue.fail(job.id, "The recording is no longer kept (deleted after the retention period).", worker)
        return
    faces = FaceTimeline(store.face_rows(stored.id, columns=FACE_COLUMNS))
    blur = bool(job.settings.get("blur"))
    started, reported = time.monotonic(), [0.0]

    def progress(video_time_s: float, duration_s: float) -> None:
        if time.monotonic() - reported[0] < REPORT_EVERY_S:
            return
        reported[0] = time.monotonic()
        done = Progress(0, video_time_s, duration_s, time.monotonic() - started)
        if not queue.report(job.id, worker, "Making the annotated video", done):
            raise AnalysisCancelled

    try:
        render_annotated(
            recording, faces, folder / ANNOTATED_VIDEO, blur=blur,
            blur_boxes=read_blur_boxes(folder / BLUR_BOXES_CSV) if blur else None, on_progress=progress,
        )  # fmt: skip
    except AnalysisCancelled:
        queue.mark_cancelled(job.id)
        return
    except OSError as error:
        queue.fail(job.id, f"The video could not be written ({error.strerror or error}). Check the free disk space.")
        return
    with store.engine.begin() as connection:
        queue.mark_done(connection, job.id, worker, stored.id)


def is_render(job: Job) -> bool:
    return RENDER_OF in job.settings
