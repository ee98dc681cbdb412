"""What every page needs once per process or browser session: navigation, the model, the store, the live worker."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy.exc
import streamlit as st

from fer.sessions.retention import RetentionSettingError, purge_expired, retention_days
from fer.sessions.store import (
    DamagedDatabaseError,
    SessionStore,
    damage,
    data_dir,
    database_url,
    file_name,
    problem,
)

if TYPE_CHECKING:
    from fer.engine.classifier import EmotionClassifier
    from fer.engine.live import LiveProcessor

log = logging.getLogger(__name__)


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
    from fer.engine.classifier import EmotionClassifier  # onnxruntime loads here, not on pages that only read

    model = EmotionClassifier()
    model.warm_up()
    return model


def store() -> SessionStore:
    """The session database (``FER_DATABASE_URL`` or the data folder's SQLite file), opened once.

    A database that cannot be opened stops the page with a message saying what to check.
    """
    try:
        session_store = _open_store(database_url())
        _purge_when_due(session_store, data_dir(), retention_days())
        return session_store
    except RetentionSettingError as error:
        st.error(f"The app's settings need fixing: {error}.")
        st.stop()
    except DamagedDatabaseError as error:
        st.error(damaged_message(str(error)))
        st.stop()
    except (sqlalchemy.exc.SQLAlchemyError, OSError, RuntimeError) as error:
        log.warning("the session database could not be opened: %r", error)  # the details, for whoever runs it
        st.error(
            problem(error, database_url())
            or f"The session database could not be opened ({type(error).__name__}). Check FER_DATABASE_URL, that "
            "the database server is running, and that the data folder is writable."
        )
        st.stop()


def damaged_message(reason: str) -> str:
    name = file_name(database_url())
    return (
        f"The session database cannot be read: {reason}. No session can be shown or stored until it is repaired. "
        f"Whoever runs this app can restore {name} from a backup, or keep what can still be read with "
        f"`sqlite3 {name} .recover | sqlite3 recovered.db` and put that in its place; then restart the app."
    )


def database_problem(error: BaseException) -> str | None:
    """The message for an error that came from the session database while a page read it (a file damaged or a
    server gone since the app opened it); None for any other error."""
    if reason := damage(error):
        if "is damaged" not in reason:
            reason = f"{file_name(database_url())} is damaged ({reason})"
        return damaged_message(reason)
    found = problem(error, database_url())
    if found is not None:
        log.warning("session database: %r", error)  # the driver's own words stay in the server's log
    return found


def live_processor() -> LiveProcessor:
    """This browser session's live frame worker (sessions must not share tracks or statistics).

    It holds the store so it can save a session whose stream ends unseen (see ``fer.engine.live``).
    """
    from fer.engine.live import LiveProcessor

    if "live_processor" not in st.session_state:
        st.session_state["live_processor"] = LiveProcessor(classifier(), store=store(), rows_dir=data_dir() / "live")
    return st.session_state["live_processor"]


def rtc_configuration() -> dict:
    """ICE servers from ``st.secrets["webrtc"]["ice_servers"]`` (see README); none means local network only."""
    try:
        servers = st.secrets.get("webrtc", {}).get("ice_servers", [])
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        servers = []
    return {"iceServers": [dict(server) for server in servers]}


@st.cache_resource
def _open_store(url: str) -> SessionStore:
    session_store = SessionStore(url)
    try:
        session_store.check()  # a damaged file is said at once, not when a page first reads the broken part
    except BaseException:
        session_store.engine.dispose()
        raise
    return session_store


PURGE_EVERY_S = 3600.0


@st.cache_resource
def _last_purge() -> dict[str, float]:
    """When this server process last removed expired files (shared by every visitor)."""
    return {"at": -PURGE_EVERY_S}


def _purge_when_due(session_store: SessionStore, data_folder: Path, days: float) -> None:
    """Expired uploads and exports go when a server starts and then at most an hour later, while it runs."""
    last = _last_purge()
    if time.monotonic() - last["at"] >= PURGE_EVERY_S:
        last["at"] = time.monotonic()
        purge_expired(session_store, data_folder, days)
