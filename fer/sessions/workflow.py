"""From an uploaded recording to a stored session: the workflow the Analyse page runs, without Streamlit.

The upload is copied to the data folder while its SHA-256 is computed (to spot
re-uploads), analysed into its own artefacts folder, and stored in one
transaction. If anything fails the artefacts folder is removed and the
database is untouched.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pandas as pd

from fer.engine.analyze import Progress, SessionResult, analyze_video
from fer.engine.classifier import EmotionClassifier
from fer.engine.outputs import DETECTIONS_CSV
from fer.engine.pipeline import AnalysisSettings
from fer.sessions.migrations import LOCAL_OWNER
from fer.sessions.store import SessionStore

VIDEO_TYPES = ("mp4", "mov", "avi", "mkv", "webm")
_CHUNK = 1 << 20


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


def analyse_and_store(
    video: Path,
    *,
    name: str,
    store: SessionStore,
    data_folder: Path,
    settings: AnalysisSettings,
    classifier: EmotionClassifier,
    source_name: str | None = None,
    source_sha256: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    owner: str = LOCAL_OWNER,
) -> tuple[int, SessionResult]:
    """Analyse ``video`` into a new folder under ``data_folder/sessions`` and store the session (the folder
    relative to the data folder, so a moved data folder keeps working); returns (id, result)."""
    artifacts = data_folder / "sessions" / uuid.uuid4().hex
    try:
        result = analyze_video(video, artifacts, settings, on_progress=on_progress, classifier=classifier)
        face_rows = pd.read_csv(artifacts / DETECTIONS_CSV, chunksize=50_000)
        session_id = store.save(
            name=name,
            source="upload",
            summary=result.summary,
            timeline=result.timeline,
            tracks_table=result.tracks,
            face_rows=face_rows,
            source_name=source_name,
            source_sha256=source_sha256,
            artifacts_dir=artifacts.relative_to(data_folder),
            owner=owner,
        )
    except BaseException:
        shutil.rmtree(artifacts, ignore_errors=True)
        raise
    return session_id, result
