"""The session database for the store's and the job queue's tests: SQLite, and PostgreSQL where one runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fer.sessions.migrations import metadata
from fer.sessions.store import SessionStore

POSTGRES_URL = os.environ.get("FER_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sessions.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("no PostgreSQL server: set FER_TEST_POSTGRES_URL (.ci/run starts one)")
    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as connection:  # every test starts from an empty database
        metadata.drop_all(connection)
    engine.dispose()
    yield POSTGRES_URL


@pytest.fixture
def store(database_url: str) -> Iterator[SessionStore]:
    session_store = SessionStore(database_url)
    yield session_store
    session_store.engine.dispose()
