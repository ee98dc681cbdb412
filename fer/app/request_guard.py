"""The server's first look at every request, before Streamlit's (``serve.py`` installs it as ASGI middleware).

Streamlit's own checks trust what a client says: a network client sending ``Host: localhost`` passed the app's
"this machine only" rule, any ``localhost`` page could open the app's WebSocket, and refusing a foreign page's
WebSocket first made the server look up its public address outside (``get_external_ip``). Here:

- without sign-in (and without ``FER_ALLOW_UNAUTHENTICATED_NETWORK=1``) only loopback *peers* are answered, and
  only under a loopback Host name. The peer is the TCP address, or, from a proxy that uvicorn trusts
  (``FORWARDED_ALLOW_IPS``, 127.0.0.1 by default), the client that proxy forwarded;
- a WebSocket from a browser page must come from the app's own origin (or one listed in
  ``server.corsAllowedOrigins``), compared exactly, so nothing is looked up;
- ``/_stcore/metrics`` is not served, and a browser cannot clear the server's caches (a ``clear_cache`` message:
  the app's menu never offers it, and it would clear every teacher's).
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

ALLOW_NETWORK_ENV = "FER_ALLOW_UNAUTHENTICATED_NETWORK"
CLOSED_PATHS = ("/_stcore/metrics",)
_LOOPBACK_HOST = re.compile(r"^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$", re.IGNORECASE)
LOCAL_ONLY_MESSAGE = (
    "This app has no sign-in configured, so it answers only browsers on the machine it runs on. "
    "Configure sign-in (README, 'Sign-in') to serve it on a network."
)


@dataclass(frozen=True)
class Refusal:
    status: int
    message: str


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def network_allowed(sign_in: bool, secrets: Mapping[str, object]) -> bool:
    """Whether clients on other machines may be answered: with sign-in, or when the open switch says so (in the
    environment, or as a top-level secret: the way to set it on Streamlit Community Cloud)."""
    return sign_in or os.environ.get(ALLOW_NETWORK_ENV) == "1" or str(secrets.get(ALLOW_NETWORK_ENV, "")) == "1"


def refusal(
    path: str, client: str | None, headers: dict[str, str], websocket: bool, network: bool, origins: frozenset[str]
) -> Refusal | None:
    """Why a request is refused, or None to let it through. ``headers`` have lower-case names; ``network``: other
    machines may be answered (``network_allowed``); ``origins`` are the extra exact origins allowed to open the
    WebSocket."""
    if any(path == closed or path.startswith(closed + "/") for closed in CLOSED_PATHS):
        return Refusal(404, "Not found")
    local = is_loopback(client) and _LOOPBACK_HOST.match(headers.get("host", "")) is not None
    if not local and not network:
        return Refusal(403, LOCAL_ONLY_MESSAGE)
    if websocket and "origin" in headers and not same_origin(headers["origin"], headers.get("host", ""), origins):
        return Refusal(403, "Forbidden origin")
    return None


def same_origin(origin: str, host: str, allowed: frozenset[str]) -> bool:
    """The page's origin is this server's own (same host and port as asked for) or one listed exactly."""
    match = re.match(r"^https?://([^/?#]+)$", origin)
    return (match is not None and match[1].lower() == host.lower()) or origin in allowed


def _is_clear_cache(data: bytes) -> bool:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    try:
        message.ParseFromString(data)
    except Exception:  # a malformed message is Streamlit's to answer, as before
        return False
    return message.WhichOneof("type") == "clear_cache"


class RequestGuard:
    """ASGI middleware applying ``refusal`` to every HTTP request and WebSocket, and dropping cache clears."""

    def __init__(self, app: object) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: object, send: object) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from fer.app import access

        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        client = scope.get("client")
        why = refusal(
            scope["path"],
            client[0] if client else None,
            headers,
            scope["type"] == "websocket",
            access.network_allowed(),
            _allowed_origins(),
        )
        if why is not None:
            await _refuse(scope, receive, send, why)
            return
        if scope["type"] == "websocket":
            receive = _without_cache_clears(receive)
        await self.app(scope, receive, send)


def _allowed_origins() -> frozenset[str]:
    from streamlit import config

    return frozenset(config.get_option("server.corsAllowedOrigins") or [])


def _without_cache_clears(receive: object) -> object:
    async def filtered() -> dict:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive" or not message.get("bytes"):
                return message
            if not _is_clear_cache(message["bytes"]):
                return message

    return filtered


async def _refuse(scope: dict, receive: object, send: object, why: Refusal) -> None:
    if scope["type"] == "websocket":  # closing before accepting answers the handshake with HTTP 403
        await receive()  # the handshake's websocket.connect
        await send({"type": "websocket.close", "code": 1008})
        return
    body = why.message.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": why.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
