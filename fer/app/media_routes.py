"""The report's player reads the teacher's own recording and the face boxes over HTTP, from two routes the server
adds to Streamlit's (``serve.py``): a video needs range requests to seek, which Streamlit's media files (held in
memory, a whole lesson per viewer) do not give, and the boxes of a whole lesson are too many to resend on every
rerun of the page.

A link is signed for one session and whoever the page showed it to (their owner scope), and expires after
``LINK_LIFETIME_S``; each request checks the session still exists for that scope, so a deleted session's
recording and boxes stop being served at once. The signing key lives in the server process only: links die
with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fer.engine.render import FACE_COLUMNS, FaceTimeline
from fer.sessions.store import SessionStore, StoredSession, data_dir

LINK_LIFETIME_S = 6 * 3600  # a report left open for a school day keeps playing
_KEY = secrets.token_bytes(32)
ALL_OWNERS = "*"  # an admin's scope: every owner's sessions


@dataclass(frozen=True)
class Grant:
    session_id: int
    scope: str  # the owner whose sessions the viewer reaches, or ALL_OWNERS
    expires: int  # Unix seconds


def sign(grant: Grant) -> str:
    """The grant as a URL-safe token."""
    payload = json.dumps([grant.session_id, grant.scope, grant.expires], separators=(",", ":")).encode()
    mac = hmac.new(_KEY, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(payload).decode().rstrip("=") + "." + base64.urlsafe_b64encode(mac).decode()


def verify(token: str, now: float | None = None) -> Grant | None:
    """The grant a token carries, or None if it was not signed here, was altered, or has expired."""
    try:
        encoded, mac = token.split(".", 1)
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        expected = base64.urlsafe_b64encode(hmac.new(_KEY, payload, hashlib.sha256).digest()[:16]).decode()
        if not hmac.compare_digest(expected, mac):
            return None
        session_id, scope, expires = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if (now if now is not None else time.time()) > expires:
        return None
    return Grant(int(session_id), str(scope), int(expires))


def grant_for(session_id: int, owner_scope: str | None) -> str:
    """A token for the viewer the page shows a session to (``owner_scope`` None: an admin, every owner)."""
    scope = ALL_OWNERS if owner_scope is None else owner_scope
    return sign(Grant(session_id, scope, int(time.time()) + LINK_LIFETIME_S))


def kept_recording(stored: StoredSession, data_folder: Path) -> Path | None:
    """The upload a session was made from, while it is kept (retention deletes it), else None."""
    if stored.source != "upload" or not stored.source_sha256:
        return None
    uploads = data_folder / "uploads"
    found = sorted(p for p in uploads.glob(f"{stored.source_sha256}*") if p.is_file() and not p.name.startswith("."))
    return found[0] if found else None


@cache
def _store() -> SessionStore:
    return SessionStore()


def _allowed(token: str) -> StoredSession | None:
    grant = verify(token)
    if grant is None:
        return None
    return _store().get(grant.session_id, owner=None if grant.scope == ALL_OWNERS else grant.scope)


def routes() -> list:
    """The two routes, for ``st.App(routes=...)``: ``/api/recording/<token>`` (the upload, with range requests)
    and ``/api/overlay/<token>`` (the boxes as JSON). Anything not allowed is a plain 404."""
    from anyio import to_thread
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
    from starlette.routing import Route

    missing = PlainTextResponse("Not found", status_code=404)
    private = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}

    async def recording(request: object) -> object:
        stored = await to_thread.run_sync(_allowed, request.path_params["token"])
        path = kept_recording(stored, data_dir()) if stored is not None else None
        if path is None:
            return missing
        return FileResponse(path, media_type=_MEDIA_TYPES.get(path.suffix.lower(), "video/mp4"), headers=private)

    async def boxes(request: object) -> object:
        def load() -> dict | None:
            stored = _allowed(request.path_params["token"])
            if stored is None:
                return None
            return FaceTimeline(_store().face_rows(stored.id, columns=FACE_COLUMNS)).flat()

        data = await to_thread.run_sync(load)
        return missing if data is None else JSONResponse(data, headers=private)

    return [Route("/api/recording/{token}", recording), Route("/api/overlay/{token}", boxes)]


_MEDIA_TYPES = {".mp4": "video/mp4", ".mov": "video/mp4", ".webm": "video/webm", ".mkv": "video/webm"}
