"""A damaged SQLite file is named as such, at opening or by the check the app runs once, never read as empty."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from fer.sessions.store import DamagedDatabaseError, SessionStore, damage


def _filled(tmp_path: Path) -> Path:
    """A real database file with some sessions in it, its write-ahead log merged in."""
    path = tmp_path / "sessions.db"
    store = SessionStore(f"sqlite:///{path}")
    for number in range(40):  # some pages of rows beyond the schema page
        store.record("teacher@school.example", "sign_in", detail=f"visit {number} " + "x" * 400)
    store.engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


def test_a_healthy_database_passes_the_check(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite:///{_filled(tmp_path)}")
    store.check()
    assert len(store.audit()) == 40
    store.engine.dispose()


def test_a_file_of_garbage_is_refused_at_opening_as_damaged(tmp_path: Path) -> None:
    path = _filled(tmp_path)
    path.write_bytes(b"\x00\x13garbage" * 2000)
    with pytest.raises(DamagedDatabaseError, match=r"sessions\.db is damaged \(file is not a database\)"):
        SessionStore(f"sqlite:///{path}")


def test_pages_overwritten_in_the_middle_are_found_by_the_check(tmp_path: Path) -> None:
    path = _filled(tmp_path)
    data = bytearray(path.read_bytes())
    assert len(data) >= 8 * 4096
    data[len(data) // 4 : 3 * len(data) // 4] = b"\xde\xad" * (len(data) // 4)
    path.write_bytes(bytes(data))
    # the header and schema page are intact: where the damage lies decides whether opening (which reads the schema
    # version and the tables' layout) or the check that follows finds it; one of them must
    with pytest.raises(DamagedDatabaseError, match=r"sessions\.db is damaged"):
        SessionStore(f"sqlite:///{path}").check()


def test_damage_is_told_apart_from_a_busy_or_missing_database() -> None:
    corrupt = sqlite3.DatabaseError("database disk image is malformed")
    corrupt.sqlite_errorname = "SQLITE_CORRUPT"
    wrapped = sa.exc.DatabaseError("SELECT 1", {}, corrupt)
    assert damage(wrapped) == "database disk image is malformed"
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorname = "SQLITE_BUSY"
    assert damage(sa.exc.OperationalError("INSERT", {}, locked)) is None
    assert damage(ValueError("not from a database")) is None
