"""Lesson-scale speed: a whole lesson built from the shared clips, analysed before and after a change, alternating.

    git worktree add /tmp/before <rev>
    python bench/lesson.py /tmp/before . --height 1080 --minutes 3 --rounds 2 [--args "--profile accurate"]
    python bench/lesson.py . . --height 720 --after-args "--every 1"      # two settings in one checkout

The lesson is the six clips of ``../shared/videos`` one after the other, letterboxed to 16:9 at ``--height``,
30 fps, repeated until ``--minutes``, H.264 as a phone or a call recorder writes it (B-frames, AAC sound: the
clips' own where they have it, a quiet tone where not). It is built once into ``bench/out/`` (ignored by git).

Each round runs ``fer analyze`` once per checkout, alternating, so the machine's noise hits both alike. Printed
per side: the median wall time (process start to exit), speed as multiples of real time, the peak memory of the
whole process tree (RSS summed over the process and its children, sampled every 0.1 s), and the time per stage
the analysis records in summary.json (``stage_s``: decode, detect, classify, the rest) where it does; then the
ratio after / before.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shlex
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CLIPS = (
    "computer_lab.mp4",
    "lecture_teacher.mp4",
    "office_colleagues.mp4",
    "school_closeup.mp4",
    "smiling_woman.mp4",
    "video_call.mp4",
)
FPS = 30
SOUND_RATE = 48000


def _letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    scale = min(width / image.shape[1], height / image.shape[0])
    size = (round(image.shape[1] * scale) // 2 * 2, round(image.shape[0] * scale) // 2 * 2)
    canvas = np.zeros((height, width, 3), np.uint8)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    canvas[top : top + size[1], left : left + size[0]] = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    return canvas


def _clip_frames(path: Path) -> tuple[list[np.ndarray], np.ndarray | None]:
    """The clip's frames resampled to FPS (nearest earlier frame) and its sound as mono float32 at SOUND_RATE."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = [(float(f.pts * stream.time_base), f.to_ndarray(format="bgr24")) for f in container.decode(stream)]
    times = np.array([t for t, _ in decoded]) - decoded[0][0]
    slots = np.arange(0, times[-1] + 1 / FPS, 1 / FPS)
    frames = [decoded[max(int(np.searchsorted(times, t, side="right")) - 1, 0)][1] for t in slots]
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return frames, None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SOUND_RATE)
        pieces = [p.to_ndarray()[0] for f in container.decode(audio=0) for p in resampler.resample(f)]
    sound = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    wanted = round(len(frames) / FPS * SOUND_RATE)
    return frames, np.pad(sound, (0, max(wanted - len(sound), 0)))[:wanted].astype(np.float32)


def build_lesson(videos: Path, height: int, minutes: float) -> Path:
    """The lesson file (built on first use): the clips in a loop, letterboxed to 16:9 at ``height``."""
    width = round(height * 16 / 9) // 2 * 2
    target = OUT / f"lesson_{height}p_{minutes:g}min.mp4"
    if target.exists():
        return target
    OUT.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial.mp4")
    total_frames = round(minutes * 60 * FPS)
    clips = [_clip_frames(videos / name) for name in CLIPS]
    with av.open(str(partial), mode="w") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "veryfast", "crf": "23"}  # veryfast keeps x264's B-frames, as recorders do
        audio = out.add_stream("aac", rate=SOUND_RATE)
        audio.codec_context.layout = "mono"
        written, sound_at = 0, 0
        for frames, sound in itertools.cycle(clips):
            if sound is None:  # a quiet tone where the clip is silent, so every minute has sound
                t = np.arange(round(len(frames) / FPS * SOUND_RATE)) / SOUND_RATE
                sound = (0.05 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
            for image in frames:
                if written == total_frames:
                    break
                frame = av.VideoFrame.from_ndarray(_letterbox(image, width, height), format="bgr24")
                frame.pts, frame.time_base = written, Fraction(1, FPS)
                out.mux(video.encode(frame))
                written += 1
            used = sound[: round(written * SOUND_RATE / FPS) - sound_at]
            for start in range(0, len(used), 1024):
                piece = av.AudioFrame.from_ndarray(used[None, start : start + 1024], format="flt", layout="mono")
                piece.sample_rate, piece.pts, piece.time_base = SOUND_RATE, sound_at + start, Fraction(1, SOUND_RATE)
                out.mux(audio.encode(piece))
            sound_at += len(used)
            if written == total_frames:
                break
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    partial.replace(target)
    return target


def _tree_rss_mb(pid: int) -> float:
    """RSS of ``pid`` and all its descendants, in MiB (0 once it is gone)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def run_once(tree: Path, lesson: Path, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "fer", "analyze", str(lesson), "--out", out, *extra],
            cwd=tree,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, _tree_rss_mb(process.pid))
            time.sleep(0.1)
        wall = time.perf_counter() - start
        if process.returncode != 0:
            raise SystemExit(f"fer analyze failed in {tree}:\n{process.stderr.read().decode()[-2000:]}")
        summary = json.loads((Path(out) / "summary.json").read_text())
    return {"wall_s": wall, "peak_mb": peak, "duration_s": summary["duration_s"], "stage_s": summary.get("stage_s")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before-args", default="", help="arguments for the 'before' runs only")
    parser.add_argument("--after-args", default="", help="arguments for the 'after' runs only")
    parser.add_argument("--args", default="", help="arguments for fer analyze on both sides")
    args = parser.parse_args()
    lesson = build_lesson(args.videos, args.height, args.minutes)
    sides = {
        "before": (args.before.resolve(), shlex.split(args.args) + shlex.split(args.before_args)),
        "after": (args.after.resolve(), shlex.split(args.args) + shlex.split(args.after_args)),
    }
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    for _ in range(args.rounds):
        for name, (tree, extra) in sides.items():
            runs[name].append(run_once(tree, lesson, extra))
            print(name, json.dumps(runs[name][-1]), file=sys.stderr)
    medians = {}
    for name, results in runs.items():
        wall = float(np.median([r["wall_s"] for r in results]))
        stages = [r["stage_s"] for r in results if r["stage_s"]]
        medians[name] = {
            "wall_s": round(wall, 1),
            "x_realtime": round(results[0]["duration_s"] / wall, 2),
            "peak_mb": round(float(np.median([r["peak_mb"] for r in results]))),
            "stage_s": {k: round(float(np.median([s[k] for s in stages])), 1) for k in stages[0]} if stages else None,
        }
    print(json.dumps({"lesson": lesson.name, "rounds": args.rounds, **medians}, indent=1))
    print(f"after / before wall time: {medians['after']['wall_s'] / medians['before']['wall_s']:.3f}")


if __name__ == "__main__":
    main()
