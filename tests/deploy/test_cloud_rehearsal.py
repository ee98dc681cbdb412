"""Streamlit Community Cloud, rehearsed: a clean clone, a fresh virtual environment on the newest Python here with
only requirements.txt, ``streamlit run serve.py`` (the main file Cloud is given), secrets in .streamlit/secrets.toml
as Cloud writes them, and every request through a proxy under a public name that adds forwarding headers. Checked
in chromium: without sign-in or the open switch a visitor is refused; with the open switch the app opens with its
warning; with sign-in (oidc-provider-mock) a teacher signs in, uploads a recording and reads its report; the whole
server process tree stays under MEMORY_BUDGET_MB throughout.

It installs requirements.txt (about 1.7 GB, minutes), so it runs where FER_CLOUD_REHEARSAL=1 (.ci/run sets it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.app_server import process_tree_rss_mb
from tests.conftest import CHROMIUM, VIDEOS, write_face_clip
from tests.deploy.forwarding_proxy import running_proxy

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_NAME = "classroom.streamlit.app"  # what the browser asks for; chromium maps it to the proxy
PROXY_ADDRESS = "127.0.0.2"  # the proxy listens here, the server on 127.0.0.1, both on the same port
MEMORY_BUDGET_MB = 1500

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("FER_CLOUD_REHEARSAL") != "1",
        reason="installs requirements.txt into a fresh virtual environment (1.7 GB, minutes): "
        "set FER_CLOUD_REHEARSAL=1 (.ci/run does)",
    ),
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}"),
]
oidc_provider_mock = pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is in requirements-dev")
httpx = pytest.importorskip("httpx")


def _newest_python() -> str:
    """The newest Python here of those Community Cloud offers, on PATH or installed beside this one (pyenv)."""
    beside = Path(sys.base_prefix).parent
    for version in ("3.13", "3.12"):
        candidates = [shutil.which(f"python{version}"), *sorted(beside.glob(f"{version}*/bin/python{version}"))]
        for found in filter(None, candidates):
            if subprocess.run([str(found), "-c", "import venv, ssl"], capture_output=True).returncode == 0:
                return str(found)
    return sys.executable


@pytest.fixture(scope="module")
def cloud_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(clone, python): a clean clone of this checkout's HEAD, and a fresh venv with only requirements.txt."""
    root = tmp_path_factory.mktemp("cloud")
    clone, venv = root / "app", root / "venv"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    subprocess.run([_newest_python(), "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "-r", str(clone / "requirements.txt")]
    subprocess.run(install, check=True, timeout=1800)
    return clone, python


@pytest.fixture(scope="module")
def oidc_issuer() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        issuer = f"http://127.0.0.1:{server.server_port}"
        claims = {"email": "teacher@school.org", "email_verified": True, "name": "Teacher"}
        assert httpx.put(f"{issuer}/users/teacher", json=claims).status_code == 204
        yield issuer


def _free_port() -> int:
    """A port free on both the server's and the proxy's loopback address."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with socket.socket() as other:
            try:
                other.bind((PROXY_ADDRESS, port))
            except OSError:
                continue
        return port


@pytest.fixture(scope="module")
def port() -> int:
    """One port for the rehearsal's servers (one at a time), so the browser's secure origin is known."""
    return _free_port()


@contextmanager
def cloud_app(build: tuple[Path, Path], port: int, secrets: str) -> Iterator[tuple[str, list[float]]]:
    """The app as Cloud runs it, behind the proxy: yields its public URL and the memory samples (MB) taken.
    ``{url}`` in ``secrets`` is the public URL."""
    clone, python = build
    url = f"http://{PUBLIC_NAME}:{port}"
    (clone / ".streamlit" / "secrets.toml").write_text(secrets.replace("{url}", url))
    shutil.rmtree(clone / "data", ignore_errors=True)  # each mode starts without sessions, as a new app does
    env = {"PATH": os.environ["PATH"], "HOME": str(clone.parent), "LANG": "C.UTF-8"}  # no FER_* setting: Cloud has none
    command = [str(python), "-m", "streamlit", "run", "serve.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1"]
    log = (clone.parent / "server.log").open("ab")
    server = subprocess.Popen(command, cwd=clone, env=env, stdout=log, stderr=log, start_new_session=True)
    samples: list[float] = []
    sampling = threading.Event()
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Cloud-like server did not start: see {log.name}") from None
                time.sleep(0.5)

        def sample() -> None:
            while not sampling.is_set():
                samples.append(process_tree_rss_mb(server.pid))
                sampling.wait(0.2)

        threading.Thread(target=sample, daemon=True).start()
        with running_proxy(PROXY_ADDRESS, port, "127.0.0.1"):
            yield url, samples
    finally:
        sampling.set()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        (clone / ".streamlit" / "secrets.toml").unlink()


@pytest.fixture(scope="module")
def browser(playwright, port: int):
    """Chromium that finds PUBLIC_NAME at the proxy and treats it as a secure (HTTPS) origin, as Cloud's is."""
    args = ["--no-sandbox", f"--host-resolver-rules=MAP {PUBLIC_NAME} {PROXY_ADDRESS}"]
    args.append(f"--unsafely-treat-insecure-origin-as-secure=http://{PUBLIC_NAME}:{port}")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
    yield browser
    browser.close()


def test_without_sign_in_or_the_open_switch_a_visitor_is_refused(cloud_build, port: int, browser) -> None:
    with cloud_app(cloud_build, port, secrets="") as (url, _samples):
        page = browser.new_page()
        response = page.goto(url)
        assert response.status == 403
        assert "answers only browsers on the machine it runs on" in page.locator("body").inner_text()
        page.close()


def test_the_open_switch_opens_the_app_with_its_warning(cloud_build, port: int, browser) -> None:
    with cloud_app(cloud_build, port, secrets='FER_ALLOW_UNAUTHENTICATED_NETWORK = "1"\n') as (url, samples):
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(url)
        page.get_by_text("Anyone who can reach this server sees every session").wait_for(timeout=90_000)
        page.get_by_text("Recent sessions").wait_for(timeout=60_000)
        page.close()
    assert samples and max(samples) < MEMORY_BUDGET_MB, f"server tree peaked at {max(samples):.0f} MB"


def test_a_teacher_signs_in_uploads_a_recording_and_reads_its_report(
    cloud_build, port: int, browser, oidc_issuer: str, tmp_path: Path
) -> None:
    secrets = (
        '[auth]\nredirect_uri = "{url}/oauth2callback"\n'
        'cookie_secret = "rehearsal-cookie-secret"\nclient_id = "fer"\nclient_secret = "fer-secret"\n'
        f'server_metadata_url = "{oidc_issuer}/.well-known/openid-configuration"\n'
    )
    clip = tmp_path / "Rehearsal lesson.mp4"  # a real face where ../shared is; else the portrait clip
    living = (VIDEOS / "smiling_woman.mp4").is_file()
    if living:
        shutil.copyfile(VIDEOS / "smiling_woman.mp4", clip)
    else:
        write_face_clip(clip, frames=60, fps=10.0)
    with cloud_app(cloud_build, port, secrets) as (url, samples):
        context = browser.new_context(viewport={"width": 1280, "height": 1600})
        page = context.new_page()
        page.goto(f"{url}/analyse")
        page.get_by_role("button", name="Sign in").click(timeout=90_000)
        page.locator("input[name=sub]").fill("teacher", timeout=30_000)
        page.get_by_role("button", name="Authorize").click()
        page.get_by_text("Signed in as Teacher").wait_for(timeout=60_000)
        page.goto(f"{url}/analyse")
        page.get_by_text("Recording").first.wait_for(timeout=60_000)
        page.locator("input[type=file]").set_input_files(str(clip))
        page.get_by_role("button", name="Analyse", exact=True).click()
        job = page.locator("[class*='-job-']").filter(has_text="Rehearsal lesson").first
        job.get_by_role("link", name="Done: open the report").click(timeout=300_000)
        page.get_by_text("Recording “Rehearsal lesson.mp4” analysed").wait_for(timeout=60_000)
        if living:  # (a moving photo is rightly set aside as a picture: no faces, no chart)
            page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60_000)
            assert "showed 1 face" in page.locator("body").inner_text()
        page.screenshot(path=str(ROOT / "screenshots" / "cloud_rehearsal_report.png"))
        context.close()
    print(f"Cloud rehearsal, signed in: server tree peaked at {max(samples):.0f} MB")
    assert max(samples) < MEMORY_BUDGET_MB, f"server tree peaked at {max(samples):.0f} MB"
