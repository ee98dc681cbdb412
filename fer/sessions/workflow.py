"""From an uploaded recording to a stored session: the workflow the Analyse page runs, without Streamlit.

The upload is copied to the data folder while its SHA-256 is computed (to spot
re-uploads), analysed into its own artefacts folder, and stored in one
transaction. If anything fails the artefacts folder is removed and the
database is untouched.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import sqlalchemy as sa

from fer.engine.analyze import Progress, SessionResult
from fer.engine.batch import analyze_recording
from fer.engine.classifier import EmotionClassifier
from fer.engine.detection import FaceDetector
from fer.engine.outputs import DETECTIONS_CSV, OutputError
from fer.engine.pipeline import AnalysisSettings
from fer.sessions.migrations import LOCAL_OWNER
from fer.sessions.store import SessionStore

_CHUNK = 1 << 20


# errors that can only come from writing: the data folder's disk, not the video, is at fault
_DISK_ERRORS = {
    errno.ENOSPC: "the server's disk is full",
    errno.EDQUOT: "the data folder's disk quota is used up",
    errno.EROFS: "the data folder's disk became read-only",
}

_RUNNING: set[str] = set()
_RUNNING_LOCK = threading.Lock()


@contextmanager
def analysis_claim(key: str) -> Iterator[bool]:
    """Yields True for the one analysis of ``key`` (owner and SHA-256) running in this server, False for any
    started meanwhile: with the duplicate check inside, the same file uploaded twice at once is one session."""
    with _RUNNING_LOCK:
        first = key not in _RUNNING
        _RUNNING.add(key)
    try:
        yield first
    finally:
        if first:
            with _RUNNING_LOCK:
                _RUNNING.discard(key)


def new_artifacts_dir(data_folder: Path) -> Path:
    """A fresh folder name for one analysis's files (not created yet)."""
    return data_folder / "sessions" / uuid.uuid4().hex


def save_upload(stream: BinaryIO, filename: str, uploads_dir: Path) -> tuple[Path, str]:
    """Copy an uploaded file to ``uploads_dir`` in chunks; returns (path, sha256). Memory stays flat."""
    uploads_dir.mkdir(parents=True, exist_ok=True)
    suffix = Path(filename).suffix.lower()[:8]
    partial = uploads_dir / f".{uuid.uuid4().hex}.partial"
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            while chunk := stream.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        target = uploads_dir / f"{digest.hexdigest()}{suffix}"
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target, digest.hexdigest()


@dataclass
class UnsavedSession:
    """An analysis that finished but could not be stored (database busy, unreachable, full): everything needed
    to store it again, its files kept in the data folder."""

    result: SessionResult
    artifacts: Path
    fields: dict  # name, source_name, source_sha256, owner, artifacts_dir

    def store_in(self, store: SessionStore, also: Callable[[sa.Connection, int], None] | None = None) -> int:
        """Store it (again), with ``also`` in the same transaction; raises what the store raises, keeping
        everything for another try."""
        face_rows = pd.read_csv(self.artifacts / DETECTIONS_CSV, chunksize=50_000)
        result = self.result
        return store.save(
            source="upload",
            summary=result.summary,
            timeline=result.timeline,
            tracks_table=result.tracks,
            face_rows=face_rows,
            also=also,
            **self.fields,
        )


class SaveFailedError(RuntimeError):
    """The analysis is done but storing it failed; ``unsaved`` can be stored again."""

    def __init__(self, unsaved: UnsavedSession, cause: Exception) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.unsaved = unsaved


def analyse_and_store(
    video: Path,
    *,
    name: str,
    store: SessionStore,
    data_folder: Path,
    settings: AnalysisSettings,
    classifier: EmotionClassifier,
    detector: FaceDetector | None = None,
    source_name: str | None = None,
    source_sha256: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    owner: str = LOCAL_OWNER,
    artifacts: Path | None = None,
    ray_address: str | None = None,
    also: Callable[[sa.Connection, int], None] | None = None,
    write_video: bool = True,
) -> tuple[int, SessionResult]:
    """Analyse ``video`` into ``artifacts`` (default: a new folder under ``data_folder/sessions``) and store the
    session (the folder relative to the data folder, so a moved data folder keeps working) with ``also`` in the
    same transaction; returns (id, result). With ``ray_address`` the analysis runs as time segments on Ray.
    ``write_video`` False leaves out the annotated video (the report plays a browser-playable recording itself).

    A failed or cancelled analysis leaves nothing (a disk that fills up midway raises ``OutputError``, as one
    that cannot be written at the start does); an analysis whose storing fails keeps its files and raises
    ``SaveFailedError``, whose ``unsaved`` can be stored again: the work is never lost to a busy database.
    """
    artifacts = artifacts or new_artifacts_dir(data_folder)
    try:
        result = analyze_recording(
            video, artifacts, settings, write_video=write_video, on_progress=on_progress, classifier=classifier,
            detector=detector, ray_address=ray_address,
        )  # fmt: skip
    except BaseException as error:
        shutil.rmtree(artifacts, ignore_errors=True)
        if isinstance(error, OSError) and not isinstance(error, OutputError) and error.errno in _DISK_ERRORS:
            # the disk filled up (or became read-only) midway: the same error as an unwritable folder at the start
            raise OutputError(f"{_DISK_ERRORS[error.errno]} ({error.strerror})") from error
        raise
    fields = {
        "name": name,
        "source_name": source_name,
        "source_sha256": source_sha256,
        "artifacts_dir": artifacts.relative_to(data_folder),
        "owner": owner,
    }
    unsaved = UnsavedSession(result, artifacts, fields)
    try:
        return unsaved.store_in(store, also), result
    except ValueError:  # the input itself is refused (a name too long): nothing to keep
        shutil.rmtree(artifacts, ignore_errors=True)
        raise
    except Exception as error:
        raise SaveFailedError(unsaved, error) from error
