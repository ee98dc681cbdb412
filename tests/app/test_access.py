"""Sign-in and access (fer.app.access): who may see the app, and what a signed-out visitor sees."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fer.app.access import Viewer
from fer.sessions.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test",
    "client_id": "fer",
    "client_secret": "fer",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def _listening_address(port: int) -> str:
    """The local address a TCP socket listens on for ``port`` (IPv4, from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # LISTEN
            return ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return ""


@pytest.mark.parametrize(("extra", "bound"), [((), "127.0.0.1"), (("--server.address", "0.0.0.0"), "0.0.0.0")])
def test_run_sh_serves_this_machine_only_unless_told_otherwise(tmp_path: Path, extra: tuple, bound: str) -> None:
    """The bind is run.sh's, not config.toml's (which Community Cloud reads too)."""
    assert "address" not in tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "FER_DATA_DIR": str(tmp_path)}
    command = ["bash", str(ROOT / "run.sh"), "--server.port", str(port), "--server.headless", "true", *extra]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (found := _listening_address(port)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert found == bound
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_admins_reach_every_session_and_teachers_their_own() -> None:
    assert Viewer("head@school.org", "Head", is_admin=True, signed_in=True).scope is None
    assert Viewer("alice@school.org", "Alice", is_admin=False, signed_in=True).scope == "alice@school.org"


def test_with_sign_in_configured_a_signed_out_visitor_gets_only_the_welcome(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    from tests.sessions.test_store import _save

    _save(SessionStore(), "Year 9 French, secret name", owner="alice@school.org")
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.secrets["auth"] = AUTH
    app.run()
    assert not app.exception
    assert [b.label for b in app.button] == ["Sign in"]
    shown = " ".join(str(element.value) for element in [*app.markdown, *app.caption, *app.title])
    assert "Year 9 French" not in shown and "Recent sessions" not in shown
