"""App benchmarks: the Reports page on a 1-hour session, and upload to first chart in a real browser.

    python bench/app.py reports [--repeats 5]
    python bench/app.py upload  [--seconds 60]

reports - stores a synthetic 1-hour session (3,600 one-second bins, 30 faces seen
          once a second: 108,000 face rows) in a temporary SQLite database and times
          the Reports page script with Streamlit's AppTest: the first run (database
          reads, report tables, chart specs; the app's modules are imported beforehand, as in a
          running server) and the median of cached reruns.
upload  - makes a 720p recording of ``--seconds`` by looping lecture_teacher.mp4,
          starts the app, uploads it with chromium and times click -> first chart.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fer.engine.aggregate import SessionAggregator
from fer.engine.detections import Detections
from fer.engine.outputs import DETECTION_COLUMNS
from fer.labels import NUM_CLASSES
from fer.sessions.store import SessionStore
from tests.app_server import running_app

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def synthetic_hour(store: SessionStore, seconds: int = 3600, faces: int = 30) -> int:
    rng = np.random.default_rng(0)
    aggregator = SessionAggregator(bin_s=1.0, sample_interval_s=1.0)
    rows = []
    boxes = np.column_stack([np.arange(faces) * 40, np.zeros(faces), np.arange(faces) * 40 + 30, np.full(faces, 30)])
    for second in range(seconds):
        probs = rng.dirichlet(np.ones(NUM_CLASSES), size=faces).astype(np.float32)
        detections = Detections(boxes, np.full(faces, 0.9), np.arange(1, faces + 1), probs)
        aggregator.add(detections, float(second))
        for track, (box, p) in enumerate(zip(boxes, probs, strict=True), start=1):
            rows.append([second, float(second), track, *box[:2], 30.0, 30.0, 0.9, *p.tolist(), "neutral", 1, ""])
    summary = {
        "duration_s": float(seconds),
        "fps": 1.0,
        "frames_analysed": seconds,
        "tracks": faces,
        "dominant": "neutral",
        "model_version": "synthetic",
        "settings": {},
        "class_shares": dict.fromkeys(("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"), 1 / 7),
    }
    return store.save(
        name="one hour",
        source="upload",
        summary=summary,
        timeline=aggregator.timeline(),
        tracks_table=aggregator.tracks(),
        face_rows=[pd.DataFrame(rows, columns=DETECTION_COLUMNS)],
    )


def bench_reports(repeats: int, hours: float) -> None:
    from streamlit.testing.v1 import AppTest

    # a running server has these loaded already; the timing is the page, not imports
    import fer.app.charts
    import fer.app.resources
    import fer.app.session_view  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FER_DATA_DIR"] = tmp
        os.environ.pop("FER_DATABASE_URL", None)
        synthetic_hour(SessionStore(), seconds=round(hours * 3600))
        app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=120)
        gc.collect()
        resident_before = _resident_mb()
        start = time.perf_counter()
        app.run()
        first = time.perf_counter() - start
        page_mb = _resident_mb() - resident_before
        assert not app.exception, app.exception
        charts = len(app.get("vega_lite_chart"))
        reruns = []
        for _ in range(repeats):
            start = time.perf_counter()
            app.run()
            reruns.append(time.perf_counter() - start)
    seconds = round(hours * 3600)
    session = f"{hours:g}-hour session ({seconds:,} bins, 30 faces, {seconds * 30:,} face rows)"
    print(f"Reports page, {session}, {charts} charts:")
    print(f"  first run {first:.2f} s; cached reruns median {np.median(reruns):.2f} s over {repeats}")
    print(f"  resident memory grew by {page_mb:.0f} MB during the first run (the session was built before)")


def _resident_mb() -> float:
    """Current resident set size (not the peak): what the page itself adds shows as the difference."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_upload(seconds: float) -> None:
    from playwright.sync_api import sync_playwright

    from fer.engine.video_io import H264Writer, VideoReader

    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "lecture_720p.mp4"
        with VideoReader(SHARED / "videos" / "lecture_teacher.mp4") as video:
            fps = video.info.fps
            frames = [frame.image for frame in video.frames()]
        with H264Writer(clip, fps, preset="veryfast") as writer:
            for i in range(round(seconds * fps)):
                writer.write(frames[i % len(frames)])
        with running_app(Path(tmp) / "data") as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            page.goto(f"{url}/analyse")
            page.get_by_text("Recording").first.wait_for(timeout=60_000)
            page.locator("input[type=file]").set_input_files(str(clip))
            page.get_by_role("button", name="Analyse", exact=True).wait_for()
            start = time.perf_counter()
            page.get_by_role("button", name="Analyse", exact=True).click()
            page.get_by_text("video analysed").first.wait_for(timeout=120_000)
            first_progress = time.perf_counter() - start
            page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=900_000)
            first_chart = time.perf_counter() - start
            browser.close()
    print(
        f"{seconds:.0f} s 1280x720 recording: first progress after {first_progress:.1f} s, "
        f"first chart {first_chart:.1f} s after clicking Analyse ({seconds / first_chart:.2f}x real time)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    reports = commands.add_parser("reports")
    reports.add_argument("--repeats", type=int, default=5)
    reports.add_argument("--hours", type=float, default=1.0, help="length of the synthetic session")
    commands.add_parser("upload").add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    if args.command == "reports":
        bench_reports(args.repeats, args.hours)
    else:
        bench_upload(args.seconds)


if __name__ == "__main__":
    main()
