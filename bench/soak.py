"""Soak bench: an hour-long recording and a 4K clip through the app's own workflow, then the Reports page.

    python bench/soak.py                   # 60 min of 640x360 at 5 fps, and 20 s of 3840x2160 at 15 fps
    python bench/soak.py --minutes 5       # a short run
    python bench/soak.py --skip-4k         # the long recording only (--skip-long: the 4K clip only)

Each recording is generated with PyAV (x264) into a temporary folder: the Grace Hopper portrait
matplotlib ships, twice, drifting slowly over a shaded background, swaying and turning as a seated
student does, with a running frame counter. Each is then
analysed and stored by ``fer.sessions.workflow.analyse_and_store`` into a temporary SQLite store (as the
Analyse page does, default settings, annotated video written), and the Reports page script runs on the
stored session with Streamlit's AppTest (its first, uncached run: database reads, report tables, charts).

Every step runs in its own process, so the peak resident memory reported (``getrusage`` ``ru_maxrss``)
is that step's own; the target is under 1.5 GB. Wall times depend on what else the machine runs: run it
with nothing else busy, or under ``nice`` and read the numbers as upper bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PEAK_TARGET_MB = 1536


def _peak_mb() -> float:
    """This process's peak resident memory so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, width: int, height: int, fps: float, seconds: float) -> dict:
    """Two copies of the portrait (about half and a third of the frame's height) drifting slowly across a
    shaded background; each sways its head and turns it (mirrored) every few seconds, as a seated student
    moves: a face that never changed would rightly be left out as a picture on the wall."""
    import cv2
    import numpy as np

    from fer.engine.video_io import H264Writer
    from tests.conftest import portrait

    started = time.perf_counter()
    shade = np.linspace(60, 140, width, dtype=np.float32)
    background = np.repeat(np.repeat(shade[None, :, None], height, axis=0), 3, axis=2).astype(np.uint8)
    faces = []
    for share, phase in ((0.5, 0.0), (0.33, 0.5)):
        face_h = round(height * share)
        face_w = round(face_h * 512 / 600)
        faces.append((cv2.resize(portrait(), (face_w, face_h), interpolation=cv2.INTER_AREA), phase))
    frames = round(seconds * fps)
    with H264Writer(path, fps) as writer:
        for index in range(frames):
            t = index / fps
            canvas = background.copy()
            for number, (face, phase) in enumerate(faces):
                face_h, face_w = face.shape[:2]
                # one slow sweep across and back every 4 minutes, a gentle bob every 40 s
                sweep = 0.5 - 0.5 * np.cos(2 * np.pi * (t / 240 + phase))
                x = round((width - face_w - 2) * sweep)
                y = round((height - face_h) / 2 + (height - face_h) / 2 * 0.8 * np.sin(2 * np.pi * (t / 40 + phase)))
                if number:
                    x = width - face_w - x  # the other one goes the other way
                turn = np.cos(np.pi * (t / 2.5 + phase)) > 0  # mirrored every 2.5 s: turned to the other side
                sway = cv2.getRotationMatrix2D((face_w / 2, face_h / 2), 8 * np.sin(2 * np.pi * t / 3), 1.0)
                moved = cv2.warpAffine(face[:, ::-1] if turn else face, sway, (face_w, face_h), borderMode=1)
                canvas[y : y + face_h, x : x + face_w] = moved
            cv2.putText(canvas, f"{index}", (8, height - 8), cv2.FONT_HERSHEY_SIMPLEX, height / 720, (255,) * 3, 1)
            writer.write(canvas)
    return {
        "generate_s": round(time.perf_counter() - started, 1),
        "frames": frames,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "peak_mb": round(_peak_mb()),
    }


def analyse(video: Path, data: Path) -> dict:
    """What the Analyse page does on pressing Analyse, timed from loading the model to the stored session."""
    from fer.app.resources import _open_store  # noqa: F401  (as in a running server: imports are not the bench)
    from fer.engine.classifier import EmotionClassifier
    from fer.engine.pipeline import AnalysisSettings
    from fer.sessions.store import SessionStore
    from fer.sessions.workflow import analyse_and_store

    started = time.perf_counter()
    classifier = EmotionClassifier()
    classifier.warm_up()
    store = SessionStore(f"sqlite:///{data / 'sessions.db'}")
    session_id, result = analyse_and_store(
        video,
        name=video.stem,
        store=store,
        data_folder=data,
        settings=AnalysisSettings(),
        classifier=classifier,
        source_name=video.name,
    )
    wall_s = time.perf_counter() - started
    stored = store.get(session_id)
    rows = {
        "timeline": len(store.timeline(session_id)),
        "tracks": len(store.tracks(session_id)),
        "face_rows": len(store.face_rows(session_id, columns=["time_s"])),
    }
    store.engine.dispose()
    return {
        "session_id": session_id,
        "analyse_s": round(wall_s, 1),
        "x_realtime": round(stored.duration_s / wall_s, 2),
        "frames_analysed": stored.frames_analysed,
        "duration_s": stored.duration_s,
        "analysis_scale": result.summary.get("analysis_scale"),
        "readable_share": result.summary.get("readable_share"),
        "rows": rows,
        "database_mb": round((data / "sessions.db").stat().st_size / 2**20, 1),
        "peak_mb": round(_peak_mb()),
    }


def reports(data: Path) -> dict:
    """The Reports page on the newest stored session: first run (nothing cached) and one cached rerun."""
    from streamlit.testing.v1 import AppTest

    import fer.app.resources
    import fer.app.session_view  # noqa: F401  (loaded in a running server)

    os.environ["FER_DATA_DIR"] = str(data)
    os.environ.pop("FER_DATABASE_URL", None)
    app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=600)
    started = time.perf_counter()
    app.run()
    first_s = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"the Reports page failed: {app.exception[0].message}")
    started = time.perf_counter()
    app.run()
    rerun_s = time.perf_counter() - started
    return {
        "reports_first_s": round(first_s, 2),
        "reports_rerun_s": round(rerun_s, 2),
        "charts": len(app.get("vega_lite_chart")),
        "errors": [e.value for e in app.error],
        "peak_mb": round(_peak_mb()),
    }


def _step(*args: str) -> dict:
    """Run one step in a fresh process (its own peak memory); returns its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, "--step", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"step {args[0]} failed ({done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def soak(label: str, width: int, height: int, fps: float, seconds: float, tmp: Path) -> dict:
    data = tmp / label / "data"
    data.mkdir(parents=True)
    video = tmp / label / f"{label}.mp4"
    made = _step("generate", str(video), str(width), str(height), str(fps), str(seconds))
    print(f"[{label}] generated {made}", flush=True)
    analysed = _step("analyse", str(video), str(data))
    print(f"[{label}] analysed and stored {analysed}", flush=True)
    shown = _step("reports", str(data))
    print(f"[{label}] Reports page {shown}", flush=True)
    length = f"{seconds / 60:g} min" if seconds >= 120 else f"{seconds:g} s"
    size = f"{width}x{height} at {fps:g} fps, {length}"
    return {"label": label, "size": size, "generate": made, "analyse": analysed, "reports": shown}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the long recording (default 60)")
    parser.add_argument("--fps", type=float, default=5.0, help="frame rate of the long recording (default 5)")
    parser.add_argument("--seconds-4k", type=float, default=20.0, help="length of the 4K clip (default 20)")
    parser.add_argument("--fps-4k", type=float, default=15.0, help="frame rate of the 4K clip (default 15)")
    parser.add_argument("--skip-4k", action="store_true")
    parser.add_argument("--skip-long", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--step", nargs="+", help=argparse.SUPPRESS)  # internal: one step in its own process
    args = parser.parse_args()
    if args.step:
        name, *values = args.step
        if name == "generate":
            answer = generate(Path(values[0]), int(values[1]), int(values[2]), float(values[3]), float(values[4]))
        elif name == "analyse":
            answer = analyse(Path(values[0]), Path(values[1]))
        else:
            answer = reports(Path(values[0]))
        print(json.dumps(answer))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="fer-soak-") as folder:
        tmp = Path(folder)
        if not args.skip_long:
            results.append(soak("long", 640, 360, args.fps, args.minutes * 60, tmp))
        if not args.skip_4k:
            results.append(soak("4k", 3840, 2160, args.fps_4k, args.seconds_4k, tmp))
    print()
    worst = 0
    for result in results:
        made, analysed, shown = result["generate"], result["analyse"], result["reports"]
        rows = analysed["rows"]
        worst = max(worst, analysed["peak_mb"], shown["peak_mb"])
        print(
            f"{result['label']}: {result['size']} ({made['frames']:,} frames, {made['file_mb']} MB; "
            f"generated in {made['generate_s']} s)\n"
            f"  analyse + store: {analysed['analyse_s']} s wall ({analysed['x_realtime']}x real time), "
            f"peak RSS {analysed['peak_mb']} MB; stored {rows['face_rows']:,} face rows, {rows['timeline']:,} "
            f"timeline bins, {rows['tracks']} tracks (database {analysed['database_mb']} MB); "
            f"analysis scale {analysed['analysis_scale']}, faces read {analysed['readable_share']}\n"
            f"  Reports page: first run {shown['reports_first_s']} s, cached rerun {shown['reports_rerun_s']} s, "
            f"{shown['charts']} charts, peak RSS {shown['peak_mb']} MB"
        )
    print(
        f"largest peak RSS {worst} MB: {'within' if worst < PEAK_TARGET_MB else 'OVER'} the {PEAK_TARGET_MB} MB target"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
