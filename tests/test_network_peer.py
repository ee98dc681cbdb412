"""A server without sign-in answers only this machine, whatever a client on another machine says: the client runs
in a second network namespace (a machine on the LAN, as far as the server can tell) and forges every Host a probe
tried. Needs root and iproute2 (CI runs as root; .ci/run installs iproute2)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fer.app.request_guard import LOCAL_ONLY_MESSAGE
from tests.app_server import running_app

IP = shutil.which("ip")
pytestmark = pytest.mark.skipif(
    IP is None or os.geteuid() != 0, reason="a second network namespace needs root and iproute2's `ip`"
)
SERVER_SIDE, CLIENT_SIDE = "10.213.7.1", "10.213.7.2"

# Sends raw requests, so that any Host (or none) goes out as written; prints {case: status}.
CLIENT = r"""
import json, socket, sys
host, port = sys.argv[1], int(sys.argv[2])
WS = ["Connection: Upgrade", "Upgrade: websocket", "Sec-WebSocket-Version: 13",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
def ask(host_header, path="/", websocket=False):
    lines = [f"GET {path} HTTP/1.1"] + ([f"Host: {host_header}"] if host_header is not None else [])
    lines += WS + [f"Origin: http://{host_header}"] if websocket else ["Connection: close"]
    with socket.create_connection((host, port), timeout=15) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while chunk := s.recv(65536):  # to the end (Connection: close), or the head of a WebSocket's answer
            answer += chunk
            if answer.startswith(b"HTTP/1.1 101") and b"\r\n\r\n" in answer:
                break
    head, _, body = answer.partition(b"\r\n\r\n")
    return [int(head.split()[1]), body.decode(errors="replace")[:300]]
found = {}
for forged in ["localhost", "127.0.0.1", "localhost:PORT", "", "evil.com@localhost", "[::1]", "HONEST", None]:
    name = str(forged).replace("PORT", str(port)).replace("HONEST", f"{host}:{port}")
    header = None if forged is None else name
    found[f"GET / Host={name}"] = ask(header)
    found[f"WebSocket Host={name}"] = ask(header, "/_stcore/stream", websocket=True)
found["GET /_stcore/health Host=localhost"] = ask("localhost", "/_stcore/health")
print(json.dumps(found))
"""


@pytest.fixture
def other_machine() -> Iterator[str]:
    """A network namespace joined to this one by a veth pair: its name, to run commands in with ``ip netns exec``."""
    name, host_end, far_end = f"ferprobe{os.getpid()}", f"fh{os.getpid() % 10**6}", f"fp{os.getpid() % 10**6}"
    steps = [
        ["netns", "add", name],
        ["link", "add", host_end, "type", "veth", "peer", "name", far_end],
        ["link", "set", far_end, "netns", name],
        ["addr", "add", f"{SERVER_SIDE}/24", "dev", host_end],
        ["link", "set", host_end, "up"],
        ["netns", "exec", name, IP, "addr", "add", f"{CLIENT_SIDE}/24", "dev", far_end],
        ["netns", "exec", name, IP, "link", "set", far_end, "up"],
    ]
    try:
        for step in steps:
            done = subprocess.run([IP, *step], capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"could not set up a network namespace here: {done.stderr.strip()}")
        yield name
    finally:
        subprocess.run([IP, "netns", "del", name], capture_output=True)
        subprocess.run([IP, "link", "del", host_end], capture_output=True)


def _ask_from(namespace: str | None, url_port: int) -> dict[str, list]:
    command = [sys.executable, "-c", CLIENT, SERVER_SIDE if namespace else "127.0.0.1", str(url_port)]
    if namespace:
        command = [IP, "netns", "exec", namespace, *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def test_a_client_on_another_machine_forging_host_gets_nothing(other_machine: str, tmp_path: Path) -> None:
    with running_app(tmp_path / "data", address="0.0.0.0") as url:
        port = int(url.rsplit(":", 1)[1])
        remote = _ask_from(other_machine, port)
        local = _ask_from(None, port)
    for case, (status, body) in remote.items():
        assert status in (400, 403), f"{case}: {status} {body}"  # 400: no Host at all, refused by HTTP itself
        if status == 403 and not case.startswith("WebSocket"):
            assert LOCAL_ONLY_MESSAGE in body, case
    assert remote["GET / Host=localhost"][0] == 403  # reached the server, and was refused by it
    # the same requests from this machine: the page and the WebSocket open (the peer, not the Host, differs)
    assert local["GET / Host=localhost"][0] == 200
    assert local[f"WebSocket Host=localhost:{port}"][0] == 101
    assert local["GET /_stcore/health Host=localhost"][0] == 200
