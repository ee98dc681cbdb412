"""What the Streamlit pages share: resources loaded once per process, cached report data, the session charts."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy.exc
import streamlit as st

from fer import charts, report
from fer.retention import purge_expired, retention_days
from fer.store import SessionStore, StoredSession, data_dir, database_url

if TYPE_CHECKING:
    from fer.classifier import EmotionClassifier
    from fer.live import LiveProcessor


def use_app_navigation() -> None:
    """Call first on every page: a deep link opened before anyone loaded the home page must still get app.py.

    Streamlit falls back to its old ``pages/``-folder navigation when the first request of
    a server process is a page URL (streamlit/streamlit#10276): the page then runs without
    app.py's set-up and menu. Switching the process-wide flag off and rerunning routes
    the request through app.py's ``st.navigation``, which keeps it off from then on.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="Loading the expression model…")
def classifier() -> EmotionClassifier:
    from fer.classifier import EmotionClassifier  # onnxruntime loads here, not on pages that only read

    model = EmotionClassifier()
    model.warm_up()
    return model


def store() -> SessionStore:
    """The session database (``FER_DATABASE_URL`` or the data folder's SQLite file), opened once.

    A database that cannot be opened stops the page with a message saying what to check.
    """
    try:
        return _open_store(database_url(), str(data_dir()))
    except (sqlalchemy.exc.SQLAlchemyError, OSError, RuntimeError) as error:
        st.error(
            f"The session database could not be opened ({type(error).__name__}: {error}). "
            "Check FER_DATABASE_URL, that the database server is running, and that the data folder is writable."
        )
        st.stop()


def live_processor() -> LiveProcessor:
    """This browser session's live frame worker (sessions must not share tracks or statistics).

    It holds the store so it can save a session whose stream ends unseen (see ``fer.live``).
    """
    from fer.live import LiveProcessor

    if "live_processor" not in st.session_state:
        st.session_state["live_processor"] = LiveProcessor(classifier(), store=store())
    return st.session_state["live_processor"]


def rtc_configuration() -> dict:
    """ICE servers from ``st.secrets["webrtc"]["ice_servers"]`` (see README); none means local network only."""
    try:
        servers = st.secrets.get("webrtc", {}).get("ice_servers", [])
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        servers = []
    return {"iceServers": [dict(server) for server in servers]}


@st.cache_resource
def _open_store(url: str, data_folder: str) -> SessionStore:
    """Expired uploads and exports are removed whenever a database is first opened in this process."""
    session_store = SessionStore(url)
    purge_expired(session_store, Path(data_folder) / "uploads", retention_days())
    return session_store


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


def delete_session(stored: StoredSession) -> None:
    """Remove a session's rows and its files (upload copies are shared by hash and expire on their own)."""
    store().delete(stored.id)
    if stored.artifacts_dir:
        shutil.rmtree(stored.artifacts_dir, ignore_errors=True)
    session_tables.clear()


def cache_key(stored: StoredSession) -> str:
    return f"{stored.id}-{stored.created.isoformat()}"


def headline(stored: StoredSession) -> None:
    summary = stored.summary
    columns = st.columns(4)
    columns[0].metric("Duration", f"{stored.duration_s / 60:.1f} min")
    columns[1].metric("Faces tracked", stored.tracks)
    columns[2].metric("Most common expression", stored.dominant or "no faces")
    indicators = summary.get("indicators") or {}
    if indicators:
        columns[3].metric(
            "Expressiveness",
            f"{indicators['expressiveness']:.0%}",
            help=summary.get("indicator_definitions", {}).get("expressiveness"),
        )


def session_charts(stored: StoredSession, smoothing_bins: int = 1, key: str = "") -> None:
    """The charts of one session, as on the Reports page."""
    timeline, _tracks, cells = session_tables(stored.id, cache_key(stored))
    if timeline.empty or timeline["faces"].sum() == 0:
        st.info("No faces were found in this session, so there is nothing to chart.")
        return
    shown = report.smoothed(timeline, smoothing_bins)
    st.markdown("**Expressions over time** (share of faces)")
    st.altair_chart(charts.shares_over_time(shown), width="stretch", key=f"shares{key}")
    st.markdown("**Most common expression**")
    st.altair_chart(charts.dominant_timeline(shown), width="stretch", key=f"dominant{key}")
    left, right = st.columns(2)
    with left:
        st.markdown("**Faces present**")
        st.altair_chart(charts.faces_over_time(timeline), width="stretch", key=f"faces{key}")
    with right:
        st.markdown("**Overall distribution**")
        overall = report.overall_shares(stored.summary)
        st.altair_chart(charts.overall_distribution(overall), width="stretch", key=f"overall{key}")
    if not cells.empty:
        st.markdown("**Each face over time** (anonymous tracks; pictures and posters left out)")
        st.altair_chart(charts.track_strip(cells), width="stretch", key=f"strip{key}")
