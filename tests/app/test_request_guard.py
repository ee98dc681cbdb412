"""The request guard (fer.app.request_guard): which requests reach Streamlit, decided by the peer's address and
exact origins, never by a Host a client chose; and WebSocket messages that clear the server's caches dropped."""

from __future__ import annotations

import asyncio

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg

from fer.app.request_guard import ALLOW_NETWORK_ENV, RequestGuard, network_allowed, refusal, same_origin

NO_ORIGINS: frozenset[str] = frozenset()


def _status(client, host, *, network=False, websocket=False, origin=None, path="/") -> int:
    headers = {"host": host} if host is not None else {}
    if origin is not None:
        headers["origin"] = origin
    why = refusal(path, client, headers, websocket, network, NO_ORIGINS)
    return 200 if why is None else why.status


@pytest.mark.parametrize(
    ("client", "host", "status"),
    [
        ("127.0.0.1", "localhost:8501", 200),
        ("127.0.0.1", "127.0.0.1:8501", 200),
        ("::1", "[::1]:8501", 200),
        # a client on another machine forging the Host: the probe's first finding
        ("192.168.1.20", "localhost:8501", 403),
        ("192.168.1.20", "127.0.0.1", 403),
        ("192.168.1.20", "", 403),
        ("192.168.1.20", None, 403),
        ("192.168.1.20", "evil.com@localhost", 403),
        # this machine, but asked for under a network name (a proxy serving the network): refused as before
        ("127.0.0.1", "classroom.example.org", 403),
        ("127.0.0.1", "evil.com@localhost", 403),
        ("127.0.0.1", "", 403),
        (None, "localhost", 403),
    ],
)
def test_without_sign_in_only_loopback_peers_asking_for_a_loopback_name_are_answered(client, host, status) -> None:
    assert _status(client, host) == status


def test_with_sign_in_or_the_open_switch_other_machines_are_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _status("192.168.1.20", "classroom.example.org", network=True) == 200
    assert _status("192.168.1.20", "classroom.example.org") == 403
    monkeypatch.delenv(ALLOW_NETWORK_ENV, raising=False)
    assert network_allowed(sign_in=True, secrets={})
    assert not network_allowed(sign_in=False, secrets={})
    assert network_allowed(sign_in=False, secrets={ALLOW_NETWORK_ENV: "1"})  # a top-level secret, as on Cloud
    monkeypatch.setenv(ALLOW_NETWORK_ENV, "1")
    assert network_allowed(sign_in=False, secrets={})


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:8501", True),
        ("https://localhost:8501", True),  # behind a TLS proxy the page is https, the server sees ws
        ("http://localhost:9999", False),  # another local app's page: Streamlit let any localhost origin in
        ("http://127.0.0.1:8501", False),
        ("http://attacker.example", False),
        ("http://localhost:8501/path", False),
        ("null", False),
    ],
)
def test_a_websocket_opens_only_from_the_apps_own_origin(origin: str, allowed: bool) -> None:
    assert same_origin(origin, "localhost:8501", NO_ORIGINS) is allowed
    status = _status("127.0.0.1", "localhost:8501", websocket=True, origin=origin)
    assert status == (200 if allowed else 403)


def test_an_origin_listed_in_the_config_is_allowed_exactly() -> None:
    listed = frozenset({"https://school.example"})
    assert same_origin("https://school.example", "app.internal:8501", listed)
    assert not same_origin("https://school.example.evil", "app.internal:8501", listed)


def test_the_metrics_endpoint_is_closed_even_on_this_machine() -> None:
    assert _status("127.0.0.1", "localhost:8501", path="/_stcore/metrics") == 404
    assert _status("192.168.1.20", "x", network=True, path="/_stcore/metrics") == 404


def _run_guard(scope: dict, incoming: list[dict]) -> tuple[list[dict], list[dict]]:
    """Run the guard around an app that records what it receives; returns (received by the app, sent out)."""
    received, sent = [], []

    async def app(scope, receive, send):
        while (message := await receive())["type"] != "websocket.disconnect":
            received.append(message)

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(RequestGuard(app)(scope, receive, send))
    return received, sent


def _websocket_scope(client: str, host: str) -> dict:
    headers = [(b"host", host.encode())]
    return {"type": "websocket", "path": "/_stcore/stream", "client": (client, 50000), "headers": headers}


def test_a_browser_cannot_clear_the_servers_caches_and_other_messages_pass() -> None:
    clear, rerun = BackMsg(), BackMsg()
    clear.clear_cache = True
    rerun.rerun_script.query_string = ""
    incoming = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "bytes": clear.SerializeToString()},
        {"type": "websocket.receive", "bytes": rerun.SerializeToString()},
        {"type": "websocket.disconnect"},
    ]
    received, _sent = _run_guard(_websocket_scope("127.0.0.1", "localhost:8501"), incoming)
    kinds = [BackMsg.FromString(m["bytes"]).WhichOneof("type") for m in received if m.get("bytes")]
    assert kinds == ["rerun_script"]


def test_a_refused_websocket_is_closed_before_the_app_sees_it() -> None:
    received, sent = _run_guard(_websocket_scope("10.0.0.7", "localhost:8501"), [{"type": "websocket.connect"}])
    assert received == [] and sent == [{"type": "websocket.close", "code": 1008}]
