"""Nothing leaves the server: an analysis, the live worker, the pages and a running app server make no
connection attempt to any address but this machine's (outbound connections are blocked and recorded)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from tests.app_server import running_app, visit_every_page
from tests.conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[1]
# Installed in-process by the fixture below, and as sitecustomize.py into a server started for the test.
GUARD = textwrap.dedent(
    """
    import ipaddress, json, os, socket

    _LOG = os.environ["FER_OUTBOUND_LOG"]
    _OWN = set(filter(None, os.environ.get("FER_OWN_ADDRESSES", "").split(",")))  # this machine's, not outside
    _connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def _outside(host):
        if not isinstance(host, str) or host in ("", "localhost") or host.startswith("/") or host in _OWN:
            return False
        try:
            return not ipaddress.ip_address(host.split("%")[0]).is_loopback
        except ValueError:
            return True  # a name to look up outside

    def _refuse(host):
        with open(_LOG, "a") as log:
            log.write(json.dumps(str(host)) + "\\n")
        raise OSError(f"outbound connection to {host} blocked by the test")

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and _outside(address[0]):
            _refuse(address[0])
        return _connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and _outside(address[0]):
            _refuse(address[0])
        return _connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if _outside(host.decode() if isinstance(host, bytes) else host):
            _refuse(host)
        return _getaddrinfo(host, *args, **kwargs)

    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
    open(_LOG + ".armed", "w").close()  # proof that the guard runs in the process under test
    """
)


def _attempts(log: Path) -> list[str]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def outbound_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import socket

    log = tmp_path / "outbound.log"
    monkeypatch.setenv("FER_OUTBOUND_LOG", str(log))
    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, getattr(socket.socket, name))  # restored after the test
    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    exec(compile(GUARD, "outbound_guard", "exec"), {})
    return log


def test_the_guard_does_block_and_record(outbound_log: Path) -> None:
    import socket

    with pytest.raises(OSError, match="blocked"):
        socket.create_connection(("192.0.2.1", 443), timeout=1)  # TEST-NET-1: never a real host
    assert _attempts(outbound_log) == ["192.0.2.1"]


def test_analysis_live_worker_and_pages_make_no_outbound_connection(
    outbound_log: Path, face_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from fer.engine.analyze import analyze_video
    from fer.engine.classifier import EmotionClassifier
    from fer.engine.live import LiveProcessor
    from fer.engine.video_io import VideoReader

    classifier = EmotionClassifier()
    analyze_video(face_clip, tmp_path / "out", classifier=classifier)
    processor = LiveProcessor(classifier)
    with VideoReader(face_clip) as video:
        for frame in list(video.frames())[:5]:
            processor.process(frame.image)
    processor.stats()
    processor.close()
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    for page in ("app.py", "pages/reports.py", "pages/analyse.py"):
        assert not AppTest.from_file(str(ROOT / page), default_timeout=60).run().exception
    assert _attempts(outbound_log) == []


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}")
def test_a_running_app_server_makes_no_outbound_connection(tmp_path: Path, playwright) -> None:
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "outbound.log"
    env = {"PYTHONPATH": os.pathsep.join([str(guard), os.environ.get("PYTHONPATH", "")]), "FER_OUTBOUND_LOG": str(log)}
    # 0.0.0.0, as a server with sign-in runs: where Streamlit's banner would look up the public IP
    with running_app(tmp_path / "data", extra_env=env, address="0.0.0.0") as url:
        visit_every_page(playwright, url, CHROMIUM)
    assert Path(f"{log}.armed").exists() and _attempts(log) == []


def _own_address() -> str:
    """This machine's address on its network (a UDP socket's local end after connect: no packet is sent)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return ""
        return probe.getsockname()[0]


@pytest.mark.parametrize("where", ["local processes", "local Ray"])
def test_segment_workers_make_no_outbound_connection(where: str, face_clip: Path, tmp_path: Path) -> None:
    """The guard goes into every Python process of the run (sitecustomize): the parent, spawned workers, Ray's."""
    import subprocess
    import sys

    if where == "local Ray":
        pytest.importorskip("ray", reason="ray is not installed (requirements-dev.txt installs it)")
    guard = tmp_path / "guard"
    guard.mkdir()
    (guard / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "outbound.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(guard), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "FER_OUTBOUND_LOG": str(log),
        # Ray's processes bind to this machine's own network address: a local socket, not a connection outside
        "FER_OWN_ADDRESSES": _own_address(),
    }
    command = [
        sys.executable,
        "-m",
        "fer",
        "analyze",
        str(face_clip),
        "--out",
        str(tmp_path / "out"),
        "--segments",
        "2",
    ]
    command += ["--ray", "local"] if where == "local Ray" else []
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert Path(f"{log}.armed").exists() and _attempts(log) == []
