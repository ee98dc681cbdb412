"""The session database's schema and its versioned migrations.

``SCHEMA`` lists migrations in order; ``upgrade`` applies the ones a database
has not seen yet, each in its own transaction, and records the version in
``schema_version``. To change the schema, append a migration: never edit one
that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from fer.labels import CLASSES

metadata = sa.MetaData()
LOCAL_OWNER = "local"  # the single local user's sessions, when sign-in is not configured
MAX_NAME = 200  # characters in a session name
MAX_MARKER_LABEL = 80  # characters in a lesson marker's label ("quiz", "group work")

schema_version = sa.Table("schema_version", metadata, sa.Column("version", sa.Integer, nullable=False))

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("source_name", sa.String(500)),
    sa.Column("source_sha256", sa.String(64), index=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("duration_s", sa.Float, nullable=False),
    sa.Column("fps", sa.Float, nullable=False),
    sa.Column("frames_analysed", sa.Integer, nullable=False),
    sa.Column("tracks", sa.Integer, nullable=False),
    sa.Column("dominant", sa.String(20)),
    sa.Column("model_version", sa.String(100), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("artifacts_dir", sa.String(1000)),
    # The signed-in teacher's e-mail, or LOCAL_OWNER without sign-in (schema 3; older sessions get LOCAL_OWNER).
    sa.Column("owner", sa.String(320), nullable=False, server_default=LOCAL_OWNER, index=True),
)

# Who did what, for admins: sign-ins, deletions, downloads of annotated video, exports (schema 3).
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("action", sa.String(40), nullable=False),
    sa.Column("session_id", sa.Integer),  # no foreign key: the record outlives a deleted session
    sa.Column("detail", sa.String(500), nullable=False, server_default=""),
)


def _session_key() -> sa.Column:
    return sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False)


def _class_columns(prefix: str) -> list[sa.Column]:
    return [sa.Column(f"{prefix}{name}", sa.Float) for name in CLASSES]


timeline_bins = sa.Table(
    "timeline_bins",
    metadata,
    _session_key(),
    sa.Column("time_s", sa.Float, nullable=False),
    sa.Column("faces", sa.Integer, nullable=False),
    sa.Column("faces_readable", sa.Integer),  # NULL: analysed before readability was assessed (schema 1)
    *_class_columns("share_"),
    *_class_columns("mean_p_"),
    sa.PrimaryKeyConstraint("session_id", "time_s"),
)

tracks = sa.Table(
    "tracks",
    metadata,
    _session_key(),
    sa.Column("track_id", sa.Integer, nullable=False),
    sa.Column("first_s", sa.Float, nullable=False),
    sa.Column("last_s", sa.Float, nullable=False),
    sa.Column("present_s", sa.Float, nullable=False),
    sa.Column("frames", sa.Integer, nullable=False),
    sa.Column("readable_frames", sa.Integer),
    sa.Column("dominant", sa.String(20), nullable=False),  # '' where the face was never read
    sa.Column("static", sa.Boolean, nullable=False),
    *_class_columns("share_"),
    sa.PrimaryKeyConstraint("session_id", "track_id"),
)

face_rows = sa.Table(  # numbers only: never a picture of a face
    "face_rows",
    metadata,
    _session_key(),
    sa.Column("frame", sa.Integer, nullable=False),
    sa.Column("time_s", sa.Float, nullable=False),
    sa.Column("track_id", sa.Integer, nullable=False),
    sa.Column("x", sa.Float, nullable=False),
    sa.Column("y", sa.Float, nullable=False),
    sa.Column("w", sa.Float, nullable=False),
    sa.Column("h", sa.Float, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    *_class_columns("p_"),  # NULL where the face was not read
    sa.Column("readable", sa.SmallInteger),  # 1 / 0, as in detections.csv
    sa.Column("unreadable_reason", sa.String(10)),
    sa.Index("face_rows_session", "session_id", "time_s"),
)


# Lesson markers a teacher adds to a session: a label at a lesson time (schema 4).
markers = sa.Table(
    "markers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _session_key(),
    sa.Column("time_s", sa.Float, nullable=False),
    sa.Column("label", sa.String(MAX_MARKER_LABEL), nullable=False),
    sa.Index("markers_session", "session_id", "time_s"),
)


# Analyses waiting for, or run by, the job worker (schema 5): the upload to analyse, how far it got, and how
# it ended. Numbers and file names only, as everywhere in this database.
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.String(320), nullable=False, index=True),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("source_name", sa.String(500)),
    sa.Column("source_sha256", sa.String(64)),
    sa.Column("upload", sa.String(1000), nullable=False),  # relative to the data folder
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("state", sa.String(10), nullable=False, index=True),  # queued running done failed cancelled
    sa.Column("stage", sa.String(200), nullable=False, server_default=""),  # "Loading the models…", "Analysing"…
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),  # share of the recording analysed
    sa.Column("video_time_s", sa.Float),
    sa.Column("duration_s", sa.Float),
    sa.Column("eta_s", sa.Float),  # seconds left at the pace so far
    sa.Column("error", sa.String(1000)),
    sa.Column("session_id", sa.Integer),  # the stored session once done (no foreign key: it may be deleted)
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started", sa.DateTime(timezone=True)),
    sa.Column("finished", sa.DateTime(timezone=True)),
    sa.Column("heartbeat", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("worker", sa.String(64)),  # which worker process runs it: a stale one's jobs are taken back
    sa.Column("artifacts_dir", sa.String(1000)),  # the running attempt's folder, removed if it does not finish
    sa.Column("dismissed", sa.Boolean, nullable=False, server_default=sa.false()),  # hidden from the job list
)


def _create_v1(connection: sa.Connection) -> None:
    metadata.create_all(connection, tables=[sessions, timeline_bins, tracks, face_rows])


def _missing_columns(connection: sa.Connection, table: sa.Table, names: list[str]) -> list[sa.Column]:
    """The columns a database created at an older schema lacks (one made by this code's create_all has them)."""
    existing = {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
    return [table.c[name] for name in names if name not in existing]


def _add_column(connection: sa.Connection, table: sa.Table, column: sa.Column) -> None:
    definition = column.type.compile(connection.dialect)
    if column.server_default is not None:
        definition += f" NOT NULL DEFAULT '{column.server_default.arg}'"
    connection.execute(sa.text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {definition}"))


# Added by schema 2 (readability); a database created at schema 1 gets them empty (NULL: not assessed).
_READABILITY_COLUMNS = {
    timeline_bins: ["faces_readable"],
    tracks: ["readable_frames"],
    face_rows: ["readable", "unreadable_reason"],
}


def _add_readability_v2(connection: sa.Connection) -> None:
    for table, names in _READABILITY_COLUMNS.items():
        for column in _missing_columns(connection, table, names):
            _add_column(connection, table, column)


def _add_owners_and_audit_v3(connection: sa.Connection) -> None:
    """Every existing session becomes the local user's; sign-in then shows them to admins only."""
    for column in _missing_columns(connection, sessions, ["owner"]):
        _add_column(connection, sessions, column)
        connection.execute(sa.text("CREATE INDEX ix_sessions_owner ON sessions (owner)"))
    audit_log.create(connection, checkfirst=True)


def _add_markers_v4(connection: sa.Connection) -> None:
    markers.create(connection, checkfirst=True)


def _add_jobs_v5(connection: sa.Connection) -> None:
    jobs.create(connection, checkfirst=True)


# migration N+1 is SCHEMA[N]
SCHEMA: list[Callable[[sa.Connection], None]] = [
    _create_v1,
    _add_readability_v2,
    _add_owners_and_audit_v3,
    _add_markers_v4,
    _add_jobs_v5,
]


def current_version(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("schema_version"):
            return 0
        return int(connection.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0)


def upgrade(engine: sa.Engine) -> int:
    """Apply pending migrations; returns the schema version. Refuses a database newer than this code."""
    with engine.begin() as connection:
        schema_version.create(connection, checkfirst=True)
    version = current_version(engine)
    if version > len(SCHEMA):
        raise RuntimeError(f"the database has schema version {version}; this app knows up to {len(SCHEMA)}")
    for number, migrate in enumerate(SCHEMA[version:], start=version + 1):
        with engine.begin() as connection:
            migrate(connection)
            connection.execute(sa.insert(schema_version).values(version=number))
    return len(SCHEMA)
