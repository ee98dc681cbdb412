"""Expired files go while the server runs, not only when it starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer.app import resources


def test_expired_files_are_purged_at_start_and_then_hourly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[float] = []
    clock = [1000.0]
    monkeypatch.setattr(resources.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(resources, "purge_expired", lambda *args, **kwargs: calls.append(clock[0]))
    resources._last_purge.clear()
    for minutes in (0, 10, 59, 61, 90, 125):
        clock[0] = 1000.0 + minutes * 60
        resources._purge_when_due(None, tmp_path, 7.0)
    assert calls == [1000.0, 1000.0 + 61 * 60, 1000.0 + 125 * 60]
    resources._last_purge.clear()


def test_errors_from_the_database_while_a_page_reads_become_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """What app.py shows instead of a traceback when the database breaks after the app opened it."""
    import sqlite3

    import pandas.errors
    import sqlalchemy as sa

    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    corrupt = sqlite3.DatabaseError("database disk image is malformed")
    corrupt.sqlite_errorname = "SQLITE_CORRUPT"
    try:  # as pandas raises it: its own error, from SQLAlchemy's, from sqlite3's
        try:
            raise sa.exc.DatabaseError("SELECT secret FROM face_rows", {}, corrupt)
        except sa.exc.DatabaseError as error:
            raise pandas.errors.DatabaseError("Execution failed on sql 'SELECT secret FROM face_rows'") from error
    except pandas.errors.DatabaseError as error:
        damaged = resources.database_problem(error)
    assert damaged.startswith("The session database cannot be read: sessions.db is damaged (database disk image")
    assert "SELECT" not in damaged and "restore sessions.db from a backup" in damaged
    gone = resources.database_problem(sa.exc.OperationalError("SELECT secret", {}, Exception("server closed")))
    assert gone.startswith("The database server did not answer") and "secret" not in gone
    assert resources.database_problem(ValueError("a bug, not the database")) is None
