"""Nothing leaves the server, seen below Python: every process of an analysis (``fer analyze``), of a queued job
(the worker and its job process) and of a running app server (pages in chromium, a WebSocket from a foreign page)
runs under ``strace``, and no connection or datagram may go to an address outside this machine, nor any DNS query
be sent at all. ``test_no_outbound.py`` guards Python's sockets; native libraries (onnxruntime's telemetry client,
FFmpeg) open theirs without Python, and only the kernel sees those."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.app_server import running_app, visit_every_page
from tests.conftest import CHROMIUM, write_face_clip

ROOT = Path(__file__).resolve().parents[1]
STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(STRACE is None, reason="strace is not installed (.ci/run installs it)")

_ADDRESS = re.compile(
    r"sa_family=AF_INET6?, sin6?_port=htons\((?P<port>\d+)\).*?"
    r"(?:inet_addr\(\"(?P<v4>[^\"]+)\"\)|inet_pton\(AF_INET6, \"(?P<v6>[^\"]+)\"\))"
)


def traced(log: Path) -> tuple[str, ...]:
    """The strace prefix that records every process's connect and send calls with their addresses."""
    return (STRACE, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", str(log))


def outbound(log: Path) -> list[str]:
    """The calls in a strace log that reach beyond this machine: any address that is not loopback (or the
    unspecified one), and any packet to port 53 (a DNS query, even to a resolver on this machine)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        match = _ADDRESS.search(line)
        if match is None:
            continue
        address = ipaddress.ip_address(match["v4"] or match["v6"])
        if match["port"] == "53" or not (address.is_loopback or address.is_unspecified):
            found.append(line.strip())
    return found


def test_the_check_sees_a_native_dns_query_and_connection(tmp_path: Path) -> None:
    """The check itself: a C-level getaddrinfo and a TCP connect to a TEST-NET address are both found."""
    log = tmp_path / "strace.log"
    probe = (
        "import socket\n"
        "try: socket.getaddrinfo('example.invalid', 80)\nexcept OSError: pass\n"
        "s = socket.socket(); s.setblocking(False)\n"
        "try: s.connect(('192.0.2.1', 443))\nexcept OSError: pass\n"
    )
    subprocess.run([*traced(log), sys.executable, "-c", probe], check=True, timeout=60)
    found = outbound(log)
    assert any("192.0.2.1" in line for line in found)
    if Path("/etc/resolv.conf").is_file() and "nameserver" in Path("/etc/resolv.conf").read_text():
        assert any("htons(53)" in line for line in found)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 s of a face: an analysis of it runs past the ~9 s after which onnxruntime's telemetry first looked up
    its server (measured under strace), so a process that would send it does within the test."""
    return write_face_clip(tmp_path_factory.mktemp("clips") / "long.mp4", frames=2000)


def test_an_onnxruntime_session_held_open_sends_nothing(tmp_path: Path) -> None:
    """A session opened the app's way and kept 12 s: without ``ORT_DISABLE_TELEMETRY`` its native client looked up
    ``mobile.events.data.microsoft.com`` about 9 s in, and every ~5 s after."""
    log = tmp_path / "strace.log"
    probe = (
        "import time\nfrom fer.engine.onnx_session import cpu_session\n"
        "from fer.engine.detection import CENTERFACE_PATH\n"
        "session = cpu_session(str(CENTERFACE_PATH))\ntime.sleep(12)\n"
    )
    subprocess.run([*traced(log), sys.executable, "-c", probe], cwd=ROOT, check=True, timeout=120)
    assert outbound(log) == []


def test_fer_analyze_sends_nothing_out(long_clip: Path, tmp_path: Path) -> None:
    log = tmp_path / "strace.log"
    command = [*traced(log), sys.executable, "-m", "fer", "analyze", str(long_clip), "--out", str(tmp_path / "out")]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert outbound(log) == []


def test_a_queued_job_sends_nothing_out(long_clip: Path, tmp_path: Path) -> None:
    from fer.engine.pipeline import AnalysisSettings
    from fer.sessions.jobs import DONE, JobQueue
    from fer.sessions.store import SessionStore
    from fer.sessions.workflow import save_upload

    data = tmp_path / "data"
    url = f"sqlite:///{data / 'sessions.db'}"
    queue = JobQueue(SessionStore(url).engine)
    with long_clip.open("rb") as stream:
        upload, sha256 = save_upload(stream, "lesson.mp4", data / "uploads")
    job_id = queue.enqueue(
        owner="t@school.org", name="Traced", upload=str(upload.relative_to(data)),
        settings=AnalysisSettings().to_dict(), source_name="lesson.mp4", source_sha256=sha256,
    )  # fmt: skip
    log = tmp_path / "strace.log"
    env = {**os.environ, "FER_DATA_DIR": str(data), "FER_DATABASE_URL": url}
    command = [*traced(log), sys.executable, "-m", "fer", "worker", "--idle-exit", "1"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert queue.get(job_id).state == DONE
    assert outbound(log) == []


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}")
def test_a_running_app_server_sends_nothing_out(tmp_path: Path, playwright) -> None:
    """Pages visited in chromium, and a WebSocket opened by a foreign page: Streamlit's own origin check looked
    up the server's public address (UDP to 8.8.8.8, DNS for checkip.amazonaws.com) before refusing it."""
    httpx = pytest.importorskip("httpx")
    log = tmp_path / "strace.log"
    with running_app(tmp_path / "data", address="0.0.0.0", wrapper=traced(log)) as url:
        visit_every_page(playwright, url, CHROMIUM)
        handshake = {
            "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://attacker.example",
        }  # fmt: skip
        refused = httpx.get(f"{url}/_stcore/stream", headers=handshake, timeout=10)
        assert refused.status_code == 403
        time.sleep(10)  # past the telemetry client's first look-up
    assert log.stat().st_size > 0 and outbound(log) == []
