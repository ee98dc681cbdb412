"""One stored session as the Analyse and Reports pages show it: cached tables, headline numbers, charts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from fer.app import charts, report
from fer.app.resources import store
from fer.sessions.retention import delete_files
from fer.sessions.store import StoredSession, data_dir

if TYPE_CHECKING:
    from fer.app.access import Viewer

READ_REASONS = {
    "small": "too small",
    "pose": "turned away or looking down",
    "blur": "blurred",
    "uncertain": "uncertain",
}


@st.cache_data(max_entries=16)
def session_tables(session_id: int, version: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Timeline, tracks and strip cells of a stored session (``version`` changes when the session does)."""
    stored = store().get(session_id)
    timeline = store().timeline(session_id)
    tracks = store().tracks(session_id)
    static = set(tracks.loc[tracks["static"], "track_id"])
    face_rows = store().face_rows(session_id, columns=["time_s", "track_id", *report.PROB_COLUMNS])
    cells = report.track_cells(face_rows, stored.duration_s, static)
    return timeline, tracks, cells


def delete_session(stored: StoredSession, viewer: Viewer) -> None:
    """Remove a session's rows and, at once, its files (the upload too, unless another session was made from it);
    recorded in the audit log."""
    deleted = store().delete(stored.id, viewer.scope)
    delete_files(store(), deleted, data_dir())
    store().record(viewer.owner, "delete", stored.id, f"{stored.name} (owner {stored.owner})")
    session_tables.clear()


def cache_key(stored: StoredSession) -> str:
    return f"{stored.id}-{stored.created.isoformat()}"


def headline(stored: StoredSession) -> None:
    """Duration, faces, how much could be read, the most common expression read; then why faces were not read."""
    summary = stored.summary
    read_share, reasons = report.reading_summary(summary)
    columns = st.columns(4)
    columns[0].metric("Duration", f"{stored.duration_s / 60:.1f} min")
    columns[1].metric("Faces tracked", stored.tracks)
    columns[2].metric(
        "Expressions read",
        "not assessed" if read_share is None else f"{read_share:.0%}",
        help="Share of the face time whose expression could be read. Faces too small, turned away, blurred or "
        "read with too little certainty are counted as present but not read, never guessed.",
    )
    columns[3].metric("Most common expression read", stored.dominant or "none read")
    if read_share is not None:
        why = ", ".join(f"{READ_REASONS[reason]} {share:.0%}" for reason, share in reasons.items())
        st.caption(f"Expressions read on {read_share:.0%} of face time" + (f"; not read: {why}." if why else "."))
    for warning in summary.get("input_warnings") or []:
        st.warning(warning, icon=":material/visibility_off:")


def session_charts(stored: StoredSession, smoothing_bins: int = 1, key: str = "") -> None:
    """The charts of one session, as on the Reports page."""
    timeline, _tracks, cells = session_tables(stored.id, cache_key(stored))
    if timeline.empty or timeline["faces"].sum() == 0:
        st.info("No faces were found in this session, so there is nothing to chart.")
        return
    if report.faces_read(timeline).sum() == 0:
        st.info("Faces were found, but none could be read (see above why), so no expression is charted.")
        st.markdown("**Faces present**")
        st.altair_chart(charts.faces_over_time(timeline), width="stretch", key=f"faces{key}")
        return
    shown = report.smoothed(timeline, smoothing_bins)
    st.markdown("**Expressions over time** (share of the faces read; gaps where none could be read)")
    st.altair_chart(charts.shares_over_time(shown), width="stretch", key=f"shares{key}")
    st.markdown("**Most common expression**")
    st.altair_chart(charts.dominant_timeline(shown), width="stretch", key=f"dominant{key}")
    left, right = st.columns(2)
    with left:
        st.markdown("**Faces present** (grey: not read)")
        st.altair_chart(charts.faces_over_time(timeline), width="stretch", key=f"faces{key}")
    with right:
        st.markdown("**Overall distribution**")
        overall = report.overall_shares(stored.summary)
        st.altair_chart(charts.overall_distribution(overall), width="stretch", key=f"overall{key}")
    if not cells.empty:
        st.markdown("**Each face over time** (anonymous tracks; grey: not read; pictures and posters left out)")
        st.altair_chart(charts.track_strip(cells), width="stretch", key=f"strip{key}")
