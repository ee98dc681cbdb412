"""Server memory around a large upload, as a teacher makes it: upload in chromium, press Analyse, the job ends, the
tab closes.

    python bench/upload_memory.py --mb 800

The file is random bytes named .mp4 (the job fails at once: "not a video"), so what is measured is the upload path.
Printed: the server's process tree (RSS summed over it and its children, sampled every 0.2 s) before the upload,
its peak, and after the job ended and the tab closed, with the job worker gone (it leaves after 60 s idle).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.app_server import process_tree_rss_mb, running_app  # noqa: E402
from tests.conftest import CHROMIUM  # noqa: E402


def _server_pid(port: str) -> int:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if f"--server.port\0{port}\0" in Path(f"/proc/{entry}/cmdline").read_text():
                    return int(entry)
            except OSError:
                continue
    raise RuntimeError("the server process was not found")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=800, help="upload size in MB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        upload = Path(scratch) / "lesson.mp4"
        with upload.open("wb") as out:
            for _ in range(args.mb):
                out.write(os.urandom(1 << 20))
        with running_app(Path(scratch) / "data") as url, sync_playwright() as playwright:
            server = _server_pid(url.rsplit(":", 1)[1])
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(f"{url}/analyse")
            page.get_by_text("Recording").first.wait_for(timeout=60_000)
            page.wait_for_timeout(3000)
            before = peak = process_tree_rss_mb(server)
            sampling = True

            def sample() -> None:
                nonlocal peak
                while sampling:
                    peak = max(peak, process_tree_rss_mb(server))
                    time.sleep(0.2)

            threading.Thread(target=sample, daemon=True).start()
            page.locator("input[type=file]").set_input_files(str(upload))
            page.wait_for_function(
                "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Analyse' && "
                "!b.disabled)",
                timeout=600_000,
            )
            page.get_by_role("button", name="Analyse", exact=True).click()
            page.get_by_text("not a video", exact=False).first.wait_for(timeout=300_000)
            page.close()
            time.sleep(90)  # the idle job worker leaves after 60 s
            after = process_tree_rss_mb(server)
            sampling = False
            browser.close()
    print(f"{args.mb} MB upload: server tree {before:.0f} MB before, peak {peak:.0f} MB, {after:.0f} MB after the job")
    print(f"ended and the tab closed ({after - before:+.0f} MB)")


if __name__ == "__main__":
    main()
