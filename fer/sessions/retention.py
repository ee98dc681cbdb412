"""Delete uploaded recordings and exported files after the retention period; keep the numbers.

The retention period is ``FER_RETENTION_DAYS`` (default 7). Session numbers
(timeline, tracks, per-face rows) stay until the user deletes the session.
"""

from __future__ import annotations

import math
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fer.sessions.jobs import JobQueue
from fer.sessions.store import SessionStore, StoredSession

RETENTION_ENV = "FER_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 7.0


class RetentionSettingError(ValueError):
    """``FER_RETENTION_DAYS`` is not a positive number of days."""


def retention_days() -> float:
    """``FER_RETENTION_DAYS`` (default 7), refused unless a positive, finite number: a typo must never purge."""
    raw = os.environ.get(RETENTION_ENV, "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = float(raw)
    except ValueError:
        days = math.nan
    if not (math.isfinite(days) and days > 0):
        raise RetentionSettingError(f"{RETENTION_ENV}={raw!r} must be a positive number of days (default 7)")
    return days


ORPHAN_AGE = timedelta(days=1)  # a folder no session names, this old, was left by a killed analysis


def purge_expired(store: SessionStore, data_folder: Path, days: float, now: datetime | None = None) -> int:
    """Remove expired session folders and uploads, and what analyses and uploads cut short left behind (folders
    and uploads no session or job needs, once a day old: younger ones may be in use); returns how many went.
    Nothing outside ``data_folder`` is ever touched."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    removed = 0
    expired = [s for s in store.list() if s.artifacts_dir and s.created < cutoff]
    for stored in expired:
        folder = stored.artifacts(data_folder)
        if folder is not None and folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    store.clear_artifacts_dir(s.id for s in expired)
    queue = JobQueue(store.engine)
    queue.forget_finished(cutoff)  # the job list's rows: who analysed which file name, when
    active = queue.active()  # a queued or running analysis keeps its upload and its folder
    needed = {(data_folder / job.upload).resolve() for job in active}
    needed |= {(data_folder / job.artifacts_dir).resolve() for job in active if job.artifacts_dir}
    uploads = data_folder / "uploads"
    if uploads.is_dir():
        for upload in uploads.iterdir():
            if not upload.is_file() or upload.resolve() in needed:
                continue
            modified = upload.stat().st_mtime
            stale = modified < (now - ORPHAN_AGE).timestamp() and _left_over(upload, store)
            if modified < cutoff.timestamp() or stale:
                upload.unlink(missing_ok=True)
                removed += 1
    sessions_dir = data_folder / "sessions"
    if sessions_dir.is_dir():
        named = {kept.resolve() for s in store.list() if (kept := s.artifacts(data_folder))}
        for folder in sessions_dir.iterdir():
            old = folder.stat().st_mtime < (now - ORPHAN_AGE).timestamp()
            if folder.is_dir() and old and folder.resolve() not in named | needed:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    return removed


def _left_over(upload: Path, store: SessionStore) -> bool:
    """An upload no job needs and no session was made from (its job cancelled or failed while the server went
    down), or the ``.partial`` copy of an upload cut short by a crash."""
    return upload.name.endswith(".partial") or not store.shares_source(upload.name.split(".", 1)[0])


def delete_files(store: SessionStore, deleted: StoredSession, data_folder: Path) -> None:
    """A deleted session's files go at once: its annotated video and exports, and its upload unless another
    session was made from the same file."""
    folder = deleted.artifacts(data_folder)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
    if deleted.source_sha256 and not store.shares_source(deleted.source_sha256):
        for upload in (data_folder / "uploads").glob(f"{deleted.source_sha256}*"):
            upload.unlink(missing_ok=True)
