"""SHA-256 of files and bytes: model versions, export provenance, warm-start records."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    """For model-sized files (a few MB); uploads are hashed in chunks by ``fer.sessions.workflow``."""
    return sha256_hex(path.read_bytes())
