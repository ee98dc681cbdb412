"""The teacher's analyses, on every page: queued and running ones with their progress and a Cancel button, and
those finished in the last day with a link to their report (or why they failed).

The list redraws itself every two seconds while something runs (a fragment: the page around it is not rerun),
and makes sure a job worker is running whenever jobs wait: after a server restart, the first page anyone opens
restarts the work.
"""

from __future__ import annotations

import streamlit as st

from fer.app import resources
from fer.app.access import Viewer
from fer.app.clock import clock
from fer.app.markdown import plain
from fer.sessions.job_worker import drop_unused_upload, start_worker
from fer.sessions.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, Job, JobQueue
from fer.sessions.store import data_dir, database_url

REFRESH_S = 2.0


def queue() -> JobQueue:
    return JobQueue(resources.store().engine)


def ensure_worker() -> None:
    """Start the job worker if jobs wait and none runs (it exits by itself once idle)."""
    start_worker(data_dir(), database_url())


def show(viewer: Viewer, key: str) -> None:
    """The viewer's jobs (nothing when there are none); ``key`` tells apart two lists on one page."""
    jobs = queue().listed(viewer.owner)
    if any(job.active for job in jobs):
        ensure_worker()
        _running_list(viewer, key)
    elif jobs:
        _finished_list(viewer, key)


@st.fragment(run_every=REFRESH_S)
def _running_list(viewer: Viewer, key: str) -> None:
    jobs = queue().listed(viewer.owner)
    if not any(job.active for job in jobs):
        st.rerun()  # the last one ended: the whole page again (Reports and Home list the new session)
    _draw(jobs, viewer, key)


@st.fragment
def _finished_list(viewer: Viewer, key: str) -> None:
    _draw(queue().listed(viewer.owner), viewer, key)


def in_reading_order(jobs: list[Job]) -> list[Job]:
    """Running first, then the queue in its order, then the finished ones, newest first."""
    rank = {RUNNING: 0, QUEUED: 1}
    return sorted(jobs, key=lambda job: (rank.get(job.state, 2), job.id if job.active else -job.id))


def _draw(jobs: list[Job], viewer: Viewer, key: str) -> None:
    st.markdown("**Your analyses**")
    waiting = [job.id for job in jobs if job.state == QUEUED]
    for job in in_reading_order(jobs):
        with st.container(border=True, key=f"{key}-job-{job.id}"):  # the key: a class browser tests find
            st.markdown(f"{_ICONS[job.state]} **{plain(job.name)}**")
            if job.state == RUNNING:
                st.progress(job.progress, text=progress_text(job))
            elif job.state == QUEUED:
                ahead = sum(1 for other in waiting if other < job.id)
                st.caption(job.stage or ("Next to start" if not ahead else f"Waiting: {ahead} ahead"))
            elif job.state == DONE:
                st.page_link(
                    "pages/reports.py", label="Done: open the report", icon=":material/bar_chart:",
                    query_params={"session": job.session_id},
                )  # fmt: skip
            elif job.state == FAILED:
                st.caption(plain(job.error or "It failed."))
            else:
                st.caption("Cancelled; nothing was stored.")
            if job.active:
                st.button(
                    "Cancel", key=f"{key}-cancel-{job.id}", help="Stops the analysis; nothing is stored.",
                    on_click=_cancel, args=(job.id, viewer.owner),
                )  # fmt: skip
            else:
                st.button(
                    "Hide", key=f"{key}-hide-{job.id}", help="Removes it from this list, not from Reports.",
                    on_click=_dismiss, args=(job.id, viewer.owner),
                )  # fmt: skip


def _cancel(job_id: int, owner: str) -> None:  # callbacks run before the list is drawn again, which shows it
    job = queue().get(job_id, owner)
    if job is not None and queue().request_cancel(job_id, owner) == CANCELLED:  # was queued: its upload goes now
        drop_unused_upload(job, queue(), resources.store(), data_dir())
    resources.store().record(owner, "cancel", detail=f"job {job_id}")


def _dismiss(job_id: int, owner: str) -> None:
    queue().dismiss(job_id, owner)


# Material icons, drawn by Streamlit's own font (emoji need a font the server's viewers may lack)
_ICONS = {
    QUEUED: ":material/hourglass_empty:",
    RUNNING: ":material/autorenew:",
    DONE: ":material/check_circle:",
    FAILED: ":material/error:",
    CANCELLED: ":material/cancel:",
}


def progress_text(job: Job) -> str:
    """``"0:42 of 10:00 analysed, about 3:10 left"``; the stage (``"Loading the models"``) until there is a pace."""
    if job.cancel_requested:
        return "Cancelling…"
    if job.video_time_s is None or job.stage != "Analysing":
        return f"{job.stage}…" if job.stage else "Starting…"
    of = f" of {clock(job.duration_s)}" if job.duration_s else ""
    left = f", about {clock(job.eta_s)} left" if job.eta_s is not None else ""
    return f"{clock(job.video_time_s)}{of} analysed{left}"
