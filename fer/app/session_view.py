"""One stored session as the Analyse and Reports pages show it: cached tables, the summary, headline numbers,
the charts, the video and the downloads."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from fer.app import charts, clock, job_list, media_routes, moments, narrative, printable, report
from fer.app.player import Seek, player
from fer.app.resources import store
from fer.engine.outputs import ANNOTATED_VIDEO, DETECTIONS_CSV, SUMMARY_JSON, TIMELINE_CSV
from fer.engine.video_io import browser_playable
from fer.sessions.render_jobs import active_render, request_render
from fer.sessions.retention import delete_files
from fer.sessions.store import StoredSession, data_dir

if TYPE_CHECKING:
    from collections.abc import Callable

    from fer.app.access import Viewer

# Streamlit serves a video from memory: a larger one is offered as a download instead of played in the page.
VIEWS = {"Seven expressions": False, "Grouped": True}


@st.cache_data(max_entries=16)
def session_tables(session_id: int, version: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Timeline, its bars (at most ``report.MOST_BARS``) and the notable moments of a stored session (``version``
    changes when the session does)."""
    stored = store().get(session_id)
    timeline = store().timeline(session_id)
    bin_s = float(stored.settings.get("bin_s", 1.0))
    bar_s = report.bar_seconds(stored.duration_s, bin_s, report.readings_per_second(timeline, bin_s))
    bars = report.resample(timeline, bar_s)
    return timeline, bars, moments.notable_moments(timeline, bin_s)


@st.cache_data(max_entries=16)
def session_tracks(session_id: int, version: str) -> pd.DataFrame:
    """One row per face of a stored session (``version`` changes when the session does)."""
    return store().tracks(session_id)


@st.cache_data(max_entries=4)
def strip_cells(session_id: int, version: str) -> pd.DataFrame:
    """The per-face strip's cells: read from the face rows only when a teacher asks for them."""
    stored = store().get(session_id)
    tracks = store().tracks(session_id)
    static = set(tracks.loc[tracks["static"], "track_id"])
    face_rows = store().face_rows(session_id, columns=["time_s", "track_id", *report.PROB_COLUMNS])
    return report.track_cells(face_rows, stored.duration_s, static)


def cache_key(stored: StoredSession) -> str:
    return f"{stored.id}-{stored.created.isoformat()}"


def delete_session(stored: StoredSession, viewer: Viewer) -> None:
    """Remove a session's rows and, at once, its files (the upload too, unless another session was made from it);
    recorded in the audit log."""
    deleted = store().delete(stored.id, viewer.scope)
    delete_files(store(), deleted, data_dir())
    store().record(viewer.owner, "delete", stored.id, f"{stored.name} (owner {stored.owner})")
    session_tables.clear()
    strip_cells.clear()


def viewer_zone() -> ZoneInfo:
    """The browser's time zone (stored times are UTC); UTC where the browser does not say."""
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """``"Mon 1 Dec 2026, 14:05 (Europe/Berlin)"``: a stored (UTC) time in the viewer's time zone, labelled."""
    local = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(zone)
    return f"{local:%a %-d %b %Y, %H:%M} ({zone.key})"


def summary_paragraph(stored: StoredSession) -> str:
    timeline, _bars, found = session_tables(stored.id, cache_key(stored))
    return narrative.lesson_summary(
        stored.summary, timeline, found, stored.source, session_tracks(stored.id, cache_key(stored))
    )


def headline(stored: StoredSession) -> None:
    """Length, faces, how much could be read, the most common expression read; then the input's warnings."""
    summary = stored.summary
    read_share, reasons = report.reading_summary(summary)
    columns = st.columns(4)
    columns[0].metric("Length", clock.clock(stored.duration_s))
    columns[1].metric("Faces tracked", stored.tracks)
    columns[2].metric(
        "Expressions read",
        "not assessed" if read_share is None else f"{read_share:.0%}",
        help="Share of the face time whose expression could be read. Faces too small, turned away, blurred or "
        "read with too little certainty are counted as present but not read, never guessed.",
    )
    columns[3].metric("Most common expression read", stored.dominant or "none read")
    if read_share is not None and read_share < 0.995 and reasons:
        st.caption(f"Not read: {narrative.reasons_text(reasons)}.")
    for warning in summary.get("input_warnings") or []:
        st.warning(warning, icon=":material/visibility_off:")


def main_charts(stored: StoredSession, grouped: bool, markers: pd.DataFrame, key: str) -> float | None:
    """The expressions over time, and the faces present and read below them; returns the time of a clicked bar."""
    timeline, bars, _found = session_tables(stored.id, cache_key(stored))
    if timeline.empty or timeline["faces"].sum() == 0:
        st.info("No faces were found in this session, so there is nothing to chart.")
        return None
    clicked = None
    if report.faces_read(timeline).sum() == 0:
        st.info("Faces were found, but none could be read (see above why), so no expression is charted.")
    else:
        chart = charts.expressions_over_time(report.stacked(bars, grouped), stored.duration_s, grouped, markers)
        event = st.altair_chart(chart, width="stretch", key=f"shares{key}", on_select="rerun", selection_mode="at")
        points = event.selection.get(charts.SELECTION) if event else None
        clicked = float(points[0]["time_s"]) if points else None
    coverage = charts.faces_over_time(report.coverage(bars), stored.duration_s, markers)
    st.altair_chart(coverage, width="stretch", key=f"faces{key}")
    bar = f"Each bar is {clock.clock(_bar_width(bars))} of the lesson"
    faces = "the faces present: brown read, grey present but not read."
    if report.faces_read(timeline).sum() == 0:
        st.caption(f"{bar}: {faces}")
    else:
        st.caption(
            f"{bar}: the share of the faces read showing each expression (gaps: none could be read). Below, {faces}"
        )
    return clicked


def compared_chart(stored: StoredSession, grouped: bool, longest_s: float, percent: bool) -> None:
    """One session's expressions over time for the comparison: on the longest session's lesson-time axis, or
    stretched to 0-100 % of its own length."""
    timeline, bars, _found = session_tables(stored.id, cache_key(stored))
    if report.faces_read(timeline).sum() == 0:
        st.caption("No expression could be read in this session.")
        return
    data = report.stacked(bars, grouped)
    if percent:
        stretch = 100.0 / max(stored.duration_s, 1e-9)
        data = data.assign(time_s=data["time_s"] * stretch, end_s=(data["end_s"] * stretch).clip(upper=100.0))
    chart = charts.expressions_over_time(data, longest_s, grouped, height=220, percent=percent)
    st.altair_chart(chart, width="stretch", key=f"compare{stored.id}")


def _bar_width(bars: pd.DataFrame) -> float:
    return float(bars["end_s"].iloc[0] - bars["time_s"].iloc[0]) if len(bars) else 1.0


def face_strips(stored: StoredSession, markers: pd.DataFrame, key: str) -> None:
    cells = strip_cells(stored.id, cache_key(stored))
    if cells.empty:
        st.caption("No face to show (pictures and posters that never change are left out).")
        return
    st.altair_chart(charts.track_strip(cells, stored.duration_s, markers), width="stretch", key=f"strip{key}")
    st.caption("One row per anonymous face; grey: present but not read.")


@st.cache_data(max_entries=64)
def _playable(path: str, modified: float) -> bool:
    return browser_playable(path)


def playable_recording(stored: StoredSession) -> Path | None:
    """The recording a session was made from, while it is kept and browsers play it as it is, else None."""
    path = media_routes.kept_recording(stored, data_dir())
    return path if path is not None and _playable(str(path), path.stat().st_mtime) else None


def can_play(stored: StoredSession) -> bool:
    """Whether the report has a video to play: the recording itself, or the annotated video."""
    return playable_recording(stored) is not None or kept_video(stored) is not None


def request_seek(stored: StoredSession, time_s: float) -> None:
    """Ask the player to play from ``time_s`` (a moment or a bar clicked), once."""
    seek = st.session_state.get(f"seek_{stored.id}")
    st.session_state[f"seek_{stored.id}"] = Seek(float(time_s), (seek.nonce + 1) if seek else 1)


def report_video(stored: StoredSession, viewer: Viewer) -> None:
    """The recording with the faces drawn over it while it is kept and playable; else the annotated video while
    it is kept (a recording browsers cannot play gets one); else why there is none."""
    seek = st.session_state.get(f"seek_{stored.id}")
    blur = bool(stored.settings.get("blur"))
    # st.App serves its own routes at the root, whatever server.baseUrlPath says
    if playable_recording(stored) is not None:
        token = _media_token(stored, viewer)
        player(f"/api/recording/{token}", f"/api/overlay/{token}", seek=seek, blur=blur, key=f"player{stored.id}")
    elif kept_video(stored) is not None:  # the faces are drawn (and blurred) in the video itself
        token = _media_token(stored, viewer, ANNOTATED_VIDEO)
        player(f"/api/file/{token}", None, seek=seek, blur=False, key=f"player{stored.id}")
    elif stored.source == "live":
        st.caption("Live sessions keep no video: only their numbers are stored.")
        return
    else:
        st.caption("The recording is no longer kept (deleted after the retention period).")
        return
    st.caption(
        "Your recording, with the faces as the analysis read them: coloured boxes where read, grey where not."
        + (" Every face is blurred, as this session asked." if blur else "")
    )


def _media_token(stored: StoredSession, viewer: Viewer, file: str = media_routes.RECORDING) -> str:
    """This browser session's link token for one of the session's files, the same on every rerun (a new one would
    reload the video) until it has less than an hour left."""
    key = f"media_token_{stored.id}_{file}"
    held = st.session_state.get(key)
    if held is None or held[1] - time.time() < 3600:
        token = media_routes.grant_for(stored.id, viewer.scope, file, actor=viewer.owner)
        held = (token, time.time() + media_routes.LINK_LIFETIME_S)
        st.session_state[key] = held
    return held[0]


def kept_video(stored: StoredSession) -> Path | None:
    """The session's annotated video while it is kept, else None."""
    folder = stored.artifacts(data_dir())
    path = folder / ANNOTATED_VIDEO if folder else None
    return path if path is not None and path.is_file() else None


def downloads(stored: StoredSession, viewer: Viewer, printable_report: Callable[[], str]) -> None:
    """The session's files while they are kept, and the printable report. Files come from the server's own route
    (streamed from disk, for their owner only, gone the moment the session is deleted, audited once sent); the
    report is built when clicked and audited then. Neither reruns the page, so no click loses another."""
    folder = stored.artifacts(data_dir())
    files = [
        ("Annotated video", ANNOTATED_VIDEO),
        ("Detections (CSV)", DETECTIONS_CSV),
        ("Timeline (CSV)", TIMELINE_CSV),
        ("Summary (JSON)", SUMMARY_JSON),
    ]
    kept = [(label, name) for label, name in files if folder and (folder / name).is_file()]
    row = st.container(horizontal=True)  # each button as wide as its label
    for label, name in kept:
        token = _media_token(stored, viewer, name)
        row.link_button(label, f"/api/file/{token}?download=1", icon=":material/download:")
    owner, report_name = viewer.owner, media_routes.download_name(stored, "report.html")

    def audited_report() -> str:  # runs when the browser asks for the file, outside this script run
        document = printable_report()
        store().record(owner, "export", stored.id, report_name)
        return document

    row.download_button(
        "Printable report (HTML)", audited_report, file_name=report_name, mime="text/html", on_click="ignore",
        icon=":material/download:", key=f"printable{stored.id}",
    )  # fmt: skip
    if not kept:
        st.caption("The annotated video and exports are no longer kept; the numbers above stay until deleted.")


def annotated_video_request(stored: StoredSession, viewer: Viewer) -> None:
    """Without an annotated video but with the recording kept: a button that has one made in the background."""
    recording = media_routes.kept_recording(stored, data_dir())
    if kept_video(stored) is not None or recording is None:
        return
    queue = job_list.queue()
    if active_render(queue, stored.id) is not None:
        st.caption("The annotated video is being made: it is in the list of analyses, and here once done.")
        return
    blurred = bool(stored.settings.get("blur"))
    label = "Make the annotated video (MP4 with sound" + (", every face blurred)" if blurred else ")")
    help_text = (
        "Your recording with the faces drawn on every frame, made in the background (you may close the tab); "
        "it appears here when done and is kept as long as the recording."
    )
    if st.button(label, key=f"render{stored.id}", help=help_text):
        request_render(queue, stored, recording, data_dir(), viewer.owner)
        job_list.ensure_worker()
        st.rerun()


def session_when(stored: StoredSession) -> str:
    """When and what, as plain text. A live session is stored when it ends, so it started its duration earlier;
    an upload's lesson time is unknown, so the analysis time is shown."""
    zone = viewer_zone()
    if stored.source == "live":
        return "Live session started " + local_time(stored.created - timedelta(seconds=stored.duration_s), zone)
    what = f"Recording “{stored.source_name}”" if stored.source_name else "Recording"
    return f"{what} analysed {local_time(stored.created, zone)}"


def printable_html(stored: StoredSession, grouped: bool, markers: pd.DataFrame) -> str:
    """The report as one self-contained HTML file (built when the download is clicked)."""
    timeline, bars, found = session_tables(stored.id, cache_key(stored))
    read_share, _reasons = report.reading_summary(stored.summary)
    chart_list = []
    if report.faces_read(timeline).sum() > 0:
        heading = "Observed expressions over time" + (" (grouped)" if grouped else "")
        chart_list.append(
            (heading, charts.expressions_over_time(report.stacked(bars, grouped), stored.duration_s, grouped, markers))
        )
    if not timeline.empty:
        chart_list.append(
            ("Faces present and read", charts.faces_over_time(report.coverage(bars), stored.duration_s, markers))
        )
    document = printable.PrintableReport(
        title=stored.name,
        meta=session_when(stored),
        summary=summary_paragraph(stored),
        numbers=[
            ("Length", clock.clock(stored.duration_s)),
            ("Faces tracked", str(stored.tracks)),
            ("Expressions read", "not assessed" if read_share is None else f"{read_share:.0%}"),
            ("Most common expression read", stored.dominant or "none read"),
        ],
        charts=chart_list,
        moments=found,
        markers=markers,
        note=WORDING_NOTE,
    )
    return printable.to_html(document)


WORDING_NOTE = (
    "Observed facial expressions of the group, read by a classifier from video: not feelings, engagement or any "
    "judgement of a person. Faces too small, turned away, blurred or read with too little certainty are counted as "
    "present but not read, never guessed. Faces are anonymous; this report holds no face image."
)
