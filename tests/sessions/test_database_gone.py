"""The SQLite file removed, replaced or turned read-only under a running app: found before a change is reported as
saved, said in plain words, and never replaced by a new empty database (the probe: markers and renames looked
saved and were lost, the worker made a new empty file, pages said only "did not answer")."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from streamlit.testing.v1 import AppTest

from fer.sessions.job_worker import _OutageLog
from fer.sessions.store import DatabaseGoneError, SessionStore, problem
from tests.synthetic import scripted_session

ROOT = Path(__file__).resolve().parents[2]


def _remove(database: Path) -> None:
    for path in database.parent.glob(database.name + "*"):  # with its -wal and -shm files
        path.unlink()


def test_a_removed_file_stops_every_read_and_write_and_no_empty_one_appears(tmp_path: Path) -> None:
    database = tmp_path / "sessions.db"
    store = SessionStore(f"sqlite:///{database}")
    session_id = scripted_session(store, faces=1, seconds=10)
    _remove(database)
    with pytest.raises(DatabaseGoneError, match="was removed from"):
        store.rename(session_id, "Renamed")
    with pytest.raises(DatabaseGoneError):
        store.add_marker(session_id, 1.0, "quiz")
    with pytest.raises(DatabaseGoneError):
        store.list()
    assert not database.exists()


def test_a_file_replaced_by_another_is_not_written_to(tmp_path: Path) -> None:
    database = tmp_path / "sessions.db"
    store = SessionStore(f"sqlite:///{database}")
    session_id = scripted_session(store, faces=1, seconds=10)
    replacement = tmp_path / "other.db"
    SessionStore(f"sqlite:///{replacement}").engine.dispose()
    os.replace(replacement, database)
    with pytest.raises(DatabaseGoneError, match="replaced"):
        store.rename(session_id, "Renamed")


def test_the_worker_never_creates_a_database_that_is_not_there(tmp_path: Path) -> None:
    env = {**os.environ, "FER_DATA_DIR": str(tmp_path), "FER_DATABASE_URL": f"sqlite:///{tmp_path / 'sessions.db'}"}
    done = subprocess.run(
        [sys.executable, "-m", "fer", "worker", "--idle-exit", "1"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1 and "sessions.db is not in" in done.stderr
    assert not (tmp_path / "sessions.db").exists()


def test_the_reports_page_says_the_file_is_gone_instead_of_saving_a_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    scripted_session(SessionStore(), faces=2, seconds=60, name="Maths")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.switch_page("pages/reports.py").run()
    assert not app.exception and not app.error
    _remove(tmp_path / "sessions.db")
    next(t for t in app.text_input if t.label == "Name").set_value("Maths, renamed")
    next(b for b in app.button if b.label == "Rename").click()
    app.run()
    assert any("was removed from" in e.value and "restored from a backup" in e.value for e in app.error)
    assert not app.exception and not (tmp_path / "sessions.db").exists()


@pytest.mark.parametrize(
    ("raised", "said"),
    [
        (sqlite3.OperationalError("attempt to write a readonly database"), "has become read-only"),
        (sqlite3.OperationalError("database or disk is full"), "is full"),
        (sqlite3.OperationalError("unable to open database file"), "cannot be opened"),
    ],
)
def test_sqlite_faults_are_said_in_plain_words_with_what_to_do(raised: Exception, said: str) -> None:
    wrapped = sa.exc.OperationalError("UPDATE sessions SET name=?", {}, raised)
    message = problem(wrapped, "sqlite:////srv/fer/sessions.db")
    assert said in message and "/srv/fer/sessions.db" in message and "UPDATE" not in message


def test_a_database_server_that_is_down_is_named_without_the_drivers_text_or_password() -> None:
    refused = sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused (sqlalche.me/e/20)"))
    message = problem(refused, "postgresql+psycopg://fer:s3cret@db.school.example:5433/fer")
    assert "db.school.example:5433" in message and "s3cret" not in message and "sqlalche.me" not in message


def test_the_worker_says_an_outage_once_a_minute_not_every_half_second(caplog: pytest.LogCaptureFixture) -> None:
    outage = _OutageLog()
    with caplog.at_level(logging.WARNING, logger="fer.sessions.job_worker"):
        for _ in range(120):  # a minute of polls, at once
            outage.failed("The database server did not answer")
        outage.answered()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2 and "did not answer" in lines[0] and "answering again" in lines[1]
