"""The session's media and files over HTTP, from routes the server adds to Streamlit's (``serve.py``): the report's
player reads the teacher's recording (range requests, to seek) and the face boxes; the session's files (annotated
video, CSV and JSON exports) are downloaded from here too. Streamlit's own media files would hold a whole lesson in
memory per viewer, stay served from an unguessable but open URL for up to half an hour after the session is deleted,
and lose a download clicked while the page reran.

A link is signed for one session, one file, whoever the page showed it to (their owner scope and account), and
expires after ``LINK_LIFETIME_S``. Each request checks the session still exists for that scope, so a deleted
session's files stop being served at once; with sign-in it must also carry the sign-in cookie of the account the
link was made for (not signed out since). A download is audited once its last byte was sent. The signing key lives
in the server process only: links die with it.
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

from fer.engine.outputs import ANNOTATED_VIDEO, DETECTIONS_CSV, SUMMARY_JSON, TIMELINE_CSV
from fer.engine.render import FACE_COLUMNS, FaceTimeline
from fer.sessions.store import SessionStore, StoredSession, data_dir

LINK_LIFETIME_S = 6 * 3600  # a report left open for a school day keeps playing
_KEY = secrets.token_bytes(32)
ALL_OWNERS = "*"  # an admin's scope: every owner's sessions


RECORDING = ""  # a grant's ``file`` for the upload itself
SESSION_FILES = {  # what a grant may name, with its media type: the files an analysis keeps (fer.engine.outputs)
    ANNOTATED_VIDEO: "video/mp4",
    DETECTIONS_CSV: "text/csv; charset=utf-8",
    TIMELINE_CSV: "text/csv; charset=utf-8",
    SUMMARY_JSON: "application/json",
}


@dataclass(frozen=True)
class Grant:
    session_id: int
    scope: str  # the owner whose sessions the viewer reaches, or ALL_OWNERS
    expires: int  # Unix seconds
    file: str = RECORDING  # or one of SESSION_FILES
    actor: str = ""  # the account the link was made for: named in the audit log, and checked with sign-in


def sign(grant: Grant) -> str:
    """The grant as a URL-safe token."""
    fields = [grant.session_id, grant.scope, grant.expires, grant.file, grant.actor]
    payload = json.dumps(fields, separators=(",", ":")).encode()
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
        session_id, scope, expires, file, actor = json.loads(payload)
    except (ValueError, TypeError):
        return None
    if (now if now is not None else time.time()) > expires:
        return None
    return Grant(int(session_id), str(scope), int(expires), str(file), str(actor))


def grant_for(session_id: int, owner_scope: str | None, file: str = RECORDING, actor: str = "") -> str:
    """A token for the viewer the page shows a session to (``owner_scope`` None: an admin, every owner)."""
    scope = ALL_OWNERS if owner_scope is None else owner_scope
    return sign(Grant(session_id, scope, int(time.time()) + LINK_LIFETIME_S, file, actor))


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


@dataclass(frozen=True)
class Served:
    """What a request may have: the session (for its owner scope) and the file's path, or why not."""

    grant: Grant | None = None
    stored: StoredSession | None = None
    path: Path | None = None
    why: str = ""


GONE = "This session was deleted, or its files are no longer kept (README, 'What is stored')."
EXPIRED = "This link has expired or was not made by this server; open the report again."
NOT_YOURS = "This link was made for another account, or you have signed out since; sign in and open the report again."


def resolve(token: str, cookies: dict[str, str], file: str | None = None) -> Served:
    """What a link's token reaches now: its grant must be valid, name ``file`` (if given), come with the sign-in of
    its account (when sign-in is configured), and the session and file must still exist."""
    from fer.app import access

    grant = verify(token)
    if grant is None or (file is not None and grant.file != file):
        return Served(why=EXPIRED)
    if access.sign_in_configured() and access.cookie_account(cookies, _store()) != grant.actor:
        return Served(why=NOT_YOURS)
    stored = _store().get(grant.session_id, owner=None if grant.scope == ALL_OWNERS else grant.scope)
    if stored is None:
        return Served(why=GONE)
    if grant.file == RECORDING:
        path = kept_recording(stored, data_dir())
    else:
        folder = stored.artifacts(data_dir()) if grant.file in SESSION_FILES else None
        path = folder / grant.file if folder is not None and (folder / grant.file).is_file() else None
    return Served(grant, stored, path, "" if path is not None else GONE)


def download_name(stored: StoredSession, file: str) -> str:
    """``<session name>_<file>``, in characters any file system takes."""
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stored.name)[:60]
    return f"{safe or f'session_{stored.id}'}_{file}"


def routes() -> list:
    """The routes, for ``st.App(routes=...)``: ``/api/recording/<token>`` (the upload, with range requests),
    ``/api/overlay/<token>`` (the boxes as JSON) and ``/api/file/<token>`` (a session file; ``?download=1`` saves it
    and audits it). Anything not allowed is answered with why, in plain text."""
    from anyio import to_thread
    from starlette.background import BackgroundTask
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
    from starlette.routing import Route

    private = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}

    def refused(served: Served) -> object:
        return PlainTextResponse(served.why, status_code=404 if served.why == GONE else 403, headers=private)

    async def recording(request: object) -> object:
        served = await to_thread.run_sync(resolve, request.path_params["token"], request.cookies, RECORDING)
        if served.path is None:
            return refused(served)
        media_type = _MEDIA_TYPES.get(served.path.suffix.lower(), "video/mp4")
        return FileResponse(served.path, media_type=media_type, headers=private)

    async def boxes(request: object) -> object:
        def load() -> Served | dict:
            served = resolve(request.path_params["token"], request.cookies, RECORDING)
            if served.stored is None:
                return served
            return FaceTimeline(_store().face_rows(served.stored.id, columns=FACE_COLUMNS)).flat()

        data = await to_thread.run_sync(load)
        return refused(data) if isinstance(data, Served) else JSONResponse(data, headers=private)

    async def session_file(request: object) -> object:
        served = await to_thread.run_sync(resolve, request.path_params["token"], request.cookies)
        if served.path is None or served.grant.file == RECORDING:
            return refused(served if served.why else Served(why=EXPIRED))
        if request.query_params.get("download") != "1":  # the player shows an annotated video
            return FileResponse(served.path, media_type=SESSION_FILES[served.grant.file], headers=private)
        action = "download_video" if served.grant.file == ANNOTATED_VIDEO else "export"
        audit = BackgroundTask(_store().record, served.grant.actor, action, served.stored.id, served.grant.file)
        return FileResponse(
            served.path, media_type=SESSION_FILES[served.grant.file], headers=private,
            filename=download_name(served.stored, served.grant.file), background=audit,
        )  # fmt: skip

    return [
        Route("/api/recording/{token}", recording),
        Route("/api/overlay/{token}", boxes),
        Route("/api/file/{token}", session_file),
    ]


_MEDIA_TYPES = {".mp4": "video/mp4", ".mov": "video/mp4", ".webm": "video/webm", ".mkv": "video/webm"}
