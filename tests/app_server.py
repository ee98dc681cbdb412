"""Start the real app with `streamlit run` on a free local port (for the browser test and bench/app.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def running_app(
    data_dir: Path,
    start_timeout_s: float = 60,
    oidc_issuer: str | None = None,
    admins: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
    address: str = "127.0.0.1",
    wrapper: tuple[str, ...] = (),
) -> Iterator[str]:
    """Yield the app's URL once its health check answers, with its own data folder and SQLite database.

    With ``oidc_issuer`` the app gets sign-in against that OIDC provider (secrets written to the data folder);
    ``wrapper`` goes before the command (``strace`` and its options).
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FER_DATA_DIR": str(data_dir), **(extra_env or {})}
    env.pop("FER_DATABASE_URL", None)
    command = [*wrapper, sys.executable, "-m", "streamlit", "run", str(ROOT / "serve.py"), "--server.port", str(port)]
    command += ["--server.headless", "true", "--server.address", address]
    if oidc_issuer:
        secrets = data_dir / "secrets.toml"
        data_dir.mkdir(parents=True, exist_ok=True)
        secrets.write_text(
            f'[auth]\nredirect_uri = "{url}/oauth2callback"\ncookie_secret = "test-cookie-secret"\n'
            f'client_id = "fer"\nclient_secret = "fer-secret"\n'
            f'server_metadata_url = "{oidc_issuer}/.well-known/openid-configuration"\n'
            f"[fer]\nadmins = {list(admins)!r}\n".replace("'", '"')
        )
        command += ["--secrets.files", str(secrets)]
    # its own process group, so stopping it stops a wrapper's children too (strace leaves its tracee running)
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


def process_tree_rss_mb(root: int) -> float:
    """Resident memory of process ``root`` and all its descendants (a server and its job workers), in MB."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    tree, grown = {root}, True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grown = bool(children)
    total = 0.0
    for pid in tree:
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
    return total


def visit_every_page(playwright, url: str, chromium: Path) -> None:
    """Open each page of a running app in chromium, as a teacher clicking through the menu."""
    browser = playwright.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
    page = browser.new_page()
    for path in ("", "/reports", "/analyse", "/live"):
        page.goto(f"{url}{path}")
        page.locator("[data-testid='stSidebarNav']").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
    browser.close()
