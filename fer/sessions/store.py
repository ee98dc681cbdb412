"""Session history in a real database: SQLite by default, any SQLAlchemy URL (e.g. PostgreSQL).

What is stored per session: name, owner (the signed-in teacher), source (upload /
live), when, duration, fps, model version, settings, the per-second timeline,
per-track summaries and per-face rows of numbers (time, box, probabilities).
Never a face image. Reads and changes take an ``owner``: a teacher reaches only
their own sessions; ``owner=None`` (admins, retention) reaches all. An audit log
records who signed in, deleted, downloaded or exported what.

Every session is written in one transaction, so a failed or cancelled
analysis leaves nothing behind and stored sessions are never touched.
The schema is versioned; ``fer.sessions.migrations`` upgrades an older database on open.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from fer.paths import DEFAULT_DATA_DIR
from fer.sessions.migrations import (
    LOCAL_OWNER,
    MAX_MARKER_LABEL,
    MAX_NAME,
    audit_log,
    markers,
    sessions,
    timeline_bins,
    tracks,
    upgrade,
)
from fer.sessions.migrations import face_rows as face_rows_table

DATA_DIR_ENV = "FER_DATA_DIR"
DATABASE_URL_ENV = "FER_DATABASE_URL"


def data_dir() -> Path:
    """Where the app keeps its database and uploads: ``$FER_DATA_DIR`` or ``data/`` in the checkout."""
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def database_url() -> str:
    """``$FER_DATABASE_URL``, else a SQLite file in the data folder."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{data_dir() / 'sessions.db'}"


class DamagedDatabaseError(RuntimeError):
    """The SQLite file is damaged (a failing disk, a copy made while it was written, a file overwritten):
    sessions can be neither read nor stored until it is restored or recovered."""


def file_name(url: str) -> str:
    """A SQLite database's file name (what to restore), or "the database" for a server."""
    return Path(url.split("///", 1)[-1]).name if url.startswith("sqlite") else "the database"


def damage(error: BaseException | None) -> str | None:
    """What SQLite said if ``error``, or what caused it, says its file is damaged (not busy, locked or missing);
    None otherwise."""
    for _ in range(10):
        if error is None:
            return None
        if isinstance(error, DamagedDatabaseError):
            return str(error)
        if isinstance(error, sqlite3.DatabaseError):
            name = getattr(error, "sqlite_errorname", "") or ""
            # SQLITE_CORRUPT (and its extended codes), SQLITE_NOTADB; or text no valid file holds
            if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "Could not decode to UTF-8" in str(error):
                return str(error).split("\n")[0][:200]
            return None
        error = getattr(error, "orig", None) or error.__cause__ or error.__context__
    return None


class DatabaseGoneError(RuntimeError):
    """The SQLite file was removed, moved or replaced after it was opened: a write would go to a file nobody will
    ever read again, and a fresh connection would create an empty one. Nothing is written until it is back."""


def problem(error: BaseException, url: str) -> str | None:
    """What a teacher and whoever runs the app need to hear about a database error, in plain words (never the
    driver's text, which can hold SQL, paths and links); None if ``error`` did not come from the database."""
    name, place = file_name(url), _place(url)
    for _ in range(10):
        if error is None:
            return None
        if isinstance(error, DatabaseGoneError | DamagedDatabaseError):
            return str(error)
        if isinstance(error, sqlite3.Error):
            text = str(error).lower()
            if "readonly" in text or "read-only" in text:
                return (f"{name} has become read-only ({place}): nothing can be saved. Whoever runs this app: make "
                        "the file and its folder writable again; what you just did was not saved.")  # fmt: skip
            if "full" in text:
                return f"The disk holding {name} is full ({place}): nothing can be saved until space is freed."
            if "unable to open" in text:
                return f"{name} cannot be opened ({place}): check that the data folder exists and is writable."
            if "locked" in text or "busy" in text:
                return f"{name} is busy with another change; try again in a moment."
        if isinstance(error, sa.exc.OperationalError) and not isinstance(error.orig, sqlite3.Error):
            return (f"The database server did not answer ({place}). Try again in a moment; if this stays, whoever "
                    "runs this app should check that it is running.")  # fmt: skip
        if isinstance(error, sa.exc.SQLAlchemyError | sqlite3.Error | pd.errors.DatabaseError):
            nested = getattr(error, "orig", None) or error.__cause__ or error.__context__
            if nested is None or nested is error:
                return f"The session database did not answer ({place}). Try again in a moment."
            error = nested
            continue
        error = error.__cause__ or error.__context__
    return None


def _place(url: str) -> str:
    """Where the database is, without any password: the SQLite file's path, or the server's host and port."""
    parsed = sa.engine.make_url(url)
    if parsed.drivername.startswith("sqlite"):
        return str(Path(parsed.database or "").resolve())
    return f"{parsed.host or 'localhost'}:{parsed.port or 'default port'}"


@dataclass(frozen=True)
class StoredSession:
    id: int
    name: str
    source: str  # "upload" or "live"
    source_name: str | None  # the uploaded file's name
    source_sha256: str | None
    created: datetime
    duration_s: float
    fps: float
    frames_analysed: int
    tracks: int
    dominant: str | None
    model_version: str
    settings: dict
    summary: dict
    artifacts_dir: str | None  # annotated video and exports (relative to the data folder); removed after retention
    owner: str = LOCAL_OWNER

    def artifacts(self, data_folder: Path) -> Path | None:
        """The folder of the session's files inside ``data_folder``, or None: gone, or a path outside it (from a
        database of another or a moved data folder), which the app never reads or deletes."""
        if not self.artifacts_dir:
            return None
        folder = data_folder / self.artifacts_dir  # an absolute stored path (older sessions) stays as it is
        return folder if folder.resolve().is_relative_to(data_folder.resolve()) else None


class SessionStore:
    """``SessionStore()`` opens (and creates or upgrades) the default database."""

    def __init__(self, url: str | None = None, create: bool = True) -> None:
        """``create``: make the database if it does not exist (the app, on its first start). The job worker and
        its processes pass False: a database removed under them is an error, not a new empty one."""
        self.url = url or database_url()
        self._file = _sqlite_file(self.url)
        if self._file is not None:
            if not create and not self._file.is_file():
                raise DatabaseGoneError(f"{self._file.name} is not in {self._file.parent} (removed or moved?)")
            self._file.parent.mkdir(parents=True, exist_ok=True)
        sqlite = self.url.startswith("sqlite")
        # SQLite: a writer waits up to 60 s for another one instead of failing with "database is locked"
        self.engine = sa.create_engine(self.url, connect_args={"timeout": 60} if sqlite else {})
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_foreign_keys)
        try:
            upgrade(self.engine)
        except sa.exc.DBAPIError as error:
            if reason := damage(error):
                raise DamagedDatabaseError(f"{file_name(self.url)} is damaged ({reason})") from error
            raise
        if self._file is not None:
            self._identity = _identity(self._file)
            sa.event.listen(self.engine, "begin", self._still_there)

    def _still_there(self, _connection: sa.Connection) -> None:
        """Before every transaction, reads and writes alike: the file is the one opened (one ``stat``)."""
        try:
            same = _identity(self._file) == self._identity
        except FileNotFoundError:
            raise DatabaseGoneError(
                f"{self._file.name} was removed from {self._file.parent} while the app ran: nothing is saved or shown "
                "until it is restored from a backup (then restart the app; started without it, the app begins an "
                "empty one)"
            ) from None
        if not same:
            raise DatabaseGoneError(
                f"{self._file.name} in {self._file.parent} was replaced by another file while the app ran: nothing "
                "is saved until the app is restarted on it"
            )

    def check(self) -> None:
        """Raise ``DamagedDatabaseError`` if SQLite finds its file damaged. ``PRAGMA quick_check`` reads every
        page (0.13 s for 39 MB, three 1-hour sessions, on the 2-core dev machine), so the app runs it once, when
        it opens the database. Other databases check themselves."""
        if self.engine.dialect.name != "sqlite":
            return
        try:
            with self.engine.connect() as connection:
                problems = [str(row[0]) for row in connection.exec_driver_sql("PRAGMA quick_check(1)")]
        except sa.exc.DBAPIError as error:
            if reason := damage(error):
                raise DamagedDatabaseError(f"{file_name(self.url)} is damaged ({reason})") from error
            raise
        if problems != ["ok"]:
            first = " ".join(problems[0].split())[:200] if problems else "no answer"
            raise DamagedDatabaseError(f"{file_name(self.url)} is damaged ({first})")

    def save(
        self,
        *,
        name: str,
        source: str,
        summary: dict,
        timeline: pd.DataFrame,
        tracks_table: pd.DataFrame,
        face_rows: Iterable[pd.DataFrame] = (),
        source_name: str | None = None,
        source_sha256: str | None = None,
        artifacts_dir: str | Path | None = None,
        owner: str = LOCAL_OWNER,
        also: Callable[[sa.Connection, int], None] | None = None,
    ) -> int:
        """Store one session and everything under it in a single transaction; returns its id.

        ``face_rows`` are DataFrames with detections.csv's columns (extra columns are ignored). ``also(connection,
        id)`` runs in the same transaction (a job marked done): both happen, or neither.
        """
        if source not in ("upload", "live"):
            raise ValueError(f"source must be 'upload' or 'live', got {source!r}")
        with self.engine.begin() as connection:
            session_id = connection.execute(
                sa.insert(sessions).values(
                    name=_session_name(name) or "Untitled session",
                    source=source,
                    source_name=source_name,
                    source_sha256=source_sha256,
                    created=datetime.now(UTC),
                    duration_s=float(summary.get("duration_s", 0.0)),
                    fps=float(summary.get("fps", 0.0)),
                    frames_analysed=int(summary.get("frames_analysed", 0)),
                    tracks=int(summary.get("tracks", 0)),
                    dominant=summary.get("dominant"),
                    model_version=str(summary.get("model_version", "")),
                    settings=summary.get("settings", {}),
                    summary=summary,
                    artifacts_dir=str(artifacts_dir) if artifacts_dir else None,
                    owner=owner,
                )
            ).inserted_primary_key[0]
            _insert_frame(connection, timeline_bins, session_id, timeline)
            _insert_frame(connection, tracks, session_id, tracks_table)
            for chunk in face_rows:  # e.g. pd.read_csv(detections.csv, chunksize=...): memory stays flat
                _insert_frame(connection, face_rows_table, session_id, chunk)
            if also is not None:
                also(connection, int(session_id))
        return int(session_id)

    def list(self, limit: int | None = None, owner: str | None = None) -> list[StoredSession]:
        """Sessions, newest first (the newest ``limit`` only, if given); only ``owner``'s unless None."""
        query = _owned(sa.select(sessions), owner).order_by(sessions.c.created.desc(), sessions.c.id.desc())
        with self.engine.connect() as connection:
            rows = connection.execute(query.limit(limit))
            return [_stored(row) for row in rows]

    def get(self, session_id: int, owner: str | None = None) -> StoredSession | None:
        """The session, or None if there is none with this id that ``owner`` may see."""
        with self.engine.connect() as connection:
            row = connection.execute(_owned(sa.select(sessions), owner).where(sessions.c.id == session_id)).first()
        return _stored(row) if row else None

    def find_by_hash(self, sha256: str, owner: str | None = None) -> StoredSession | None:
        """The newest session made from a file with this content, if any (re-uploads are not silent duplicates)."""
        query = _owned(sa.select(sessions), owner).where(sessions.c.source_sha256 == sha256)
        with self.engine.connect() as connection:
            row = connection.execute(query.order_by(sessions.c.id.desc())).first()
        return _stored(row) if row else None

    def timeline(self, session_id: int) -> pd.DataFrame:
        return self._frame(timeline_bins, session_id, timeline_bins.c.time_s)

    def tracks(self, session_id: int) -> pd.DataFrame:
        return self._frame(tracks, session_id, tracks.c.track_id)

    def face_rows(self, session_id: int, columns: list[str] | None = None) -> pd.DataFrame:
        """Per-face rows; pass ``columns`` to read only those (a 1-hour session has ~100,000 rows)."""
        return self._frame(face_rows_table, session_id, face_rows_table.c.time_s, columns)

    def rename(self, session_id: int, name: str, owner: str | None = None) -> None:
        name = _session_name(name)
        if not name:
            raise ValueError("a session name cannot be empty")
        if self.get(session_id, owner) is None:
            raise PermissionError(f"no session {session_id} of yours")
        with self.engine.begin() as connection:
            connection.execute(sa.update(sessions).where(sessions.c.id == session_id).values(name=name))

    def delete(self, session_id: int, owner: str | None = None) -> StoredSession:
        """Remove a session and all its rows; returns what was removed (its files are the caller's: see
        ``fer.sessions.retention.delete_files``)."""
        stored = self.get(session_id, owner)
        if stored is None:
            raise PermissionError(f"no session {session_id} of yours")
        with self.engine.begin() as connection:
            for table in (timeline_bins, tracks, face_rows_table, markers):
                connection.execute(sa.delete(table).where(table.c.session_id == session_id))
            connection.execute(sa.delete(sessions).where(sessions.c.id == session_id))
        return stored

    def markers(self, session_id: int) -> pd.DataFrame:
        """The session's lesson markers in time order: id, time_s, label."""
        return self._frame(markers, session_id, markers.c.time_s)

    def add_marker(self, session_id: int, time_s: float, label: str, owner: str | None = None) -> int:
        """Add a labelled lesson marker (e.g. "quiz") inside the session's duration; returns its id."""
        stored = self.get(session_id, owner)
        if stored is None:
            raise PermissionError(f"no session {session_id} of yours")
        label = label.strip()
        if not label or len(label) > MAX_MARKER_LABEL:
            raise ValueError(f"a marker needs a label of 1 to {MAX_MARKER_LABEL} characters")
        if not 0 <= time_s <= stored.duration_s:
            raise ValueError("a marker must lie within the session")
        with self.engine.begin() as connection:
            inserted = connection.execute(sa.insert(markers).values(session_id=session_id, time_s=time_s, label=label))
            return int(inserted.inserted_primary_key[0])

    def delete_marker(self, session_id: int, marker_id: int, owner: str | None = None) -> None:
        if self.get(session_id, owner) is None:
            raise PermissionError(f"no session {session_id} of yours")
        with self.engine.begin() as connection:
            connection.execute(sa.delete(markers).where(markers.c.session_id == session_id, markers.c.id == marker_id))

    def shares_source(self, sha256: str) -> bool:
        """Whether any stored session (anyone's) was made from a file with this content."""
        with self.engine.connect() as connection:
            return (
                connection.execute(sa.select(sessions.c.id).where(sessions.c.source_sha256 == sha256)).first()
                is not None
            )

    def record(self, actor: str, action: str, session_id: int | None = None, detail: str = "") -> None:
        """Add a line to the audit log (who, what, when)."""
        with self.engine.begin() as connection:
            connection.execute(
                sa.insert(audit_log).values(
                    at=datetime.now(UTC), actor=actor, action=action, session_id=session_id, detail=detail[:500]
                )
            )

    def last_recorded(self, actor: str, action: str) -> datetime | None:
        """When ``actor`` last did ``action`` (their last sign-out, say), or None."""
        query = sa.select(sa.func.max(audit_log.c.at)).where(audit_log.c.actor == actor, audit_log.c.action == action)
        with self.engine.connect() as connection:
            found = connection.execute(query).scalar()
        return found.replace(tzinfo=UTC) if found is not None and found.tzinfo is None else found

    def audit(self, limit: int = 500) -> pd.DataFrame:
        """The newest audit lines: at, actor, action, session_id, detail."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            return pd.read_sql(query, connection).drop(columns="id")

    def clear_artifacts_dir(self, session_ids: Iterable[int]) -> None:
        """Record that these sessions' files are gone (after the retention period)."""
        ids = list(session_ids)
        if ids:
            with self.engine.begin() as connection:
                connection.execute(sa.update(sessions).where(sessions.c.id.in_(ids)).values(artifacts_dir=None))

    def _frame(
        self, table: sa.Table, session_id: int, order: sa.Column, names: list[str] | None = None
    ) -> pd.DataFrame:
        columns = [c for c in table.c if c.name != "session_id" and (names is None or c.name in names)]
        query = sa.select(*columns).where(table.c.session_id == session_id).order_by(order)
        with self.engine.connect() as connection:  # pandas reads rows in bulk, ~4x faster than Row objects
            return pd.read_sql(query, connection)


def _insert_frame(connection: sa.Connection, table: sa.Table, session_id: int, frame: pd.DataFrame) -> None:
    """Insert a DataFrame's rows (only the table's columns; NaN becomes NULL) in batches."""
    names = [c.name for c in table.c if c.name != "session_id"]
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"{table.name}: missing columns {missing}")
    if frame.empty:
        return
    values = frame[names].astype(object).where(frame[names].notna(), None)
    records = [{"session_id": session_id, **dict(zip(names, row, strict=True))} for row in values.itertuples(False)]
    for start in range(0, len(records), 10_000):
        connection.execute(sa.insert(table), records[start : start + 10_000])


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for a server, or SQLite in memory)."""
    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _identity(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_dev, found.st_ino


def _session_name(name: str) -> str:
    """The name as stored, checked here once for every database (SQLite would keep a longer one, PostgreSQL
    would fail after the whole analysis)."""
    name = name.strip()
    if len(name) > MAX_NAME:
        raise ValueError(f"a session name can have at most {MAX_NAME} characters, this one has {len(name)}")
    return name


def _owned(query: sa.Select, owner: str | None) -> sa.Select:
    return query if owner is None else query.where(sessions.c.owner == owner)


def _stored(row: sa.Row) -> StoredSession:
    created = row.created if row.created.tzinfo else row.created.replace(tzinfo=UTC)
    return StoredSession(
        id=row.id,
        name=row.name,
        source=row.source,
        source_name=row.source_name,
        source_sha256=row.source_sha256,
        created=created,
        duration_s=row.duration_s,
        fps=row.fps,
        frames_analysed=row.frames_analysed,
        tracks=row.tracks,
        dominant=row.dominant,
        model_version=row.model_version,
        settings=row.settings,
        summary=row.summary,
        artifacts_dir=row.artifacts_dir,
        owner=row.owner,
    )


def _sqlite_foreign_keys(connection: object, _record: object) -> None:
    """Foreign keys on; write-ahead logging, so readers (the Reports page) never wait for a long save."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
