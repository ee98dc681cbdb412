"""Segment-parallel analysis against today's single pass, same run, same recording.

    .venv/bin/python bench/segments.py [--minutes 10] [--repeats 1] [--workers 2] [--no-video] [--ray]

The recording: ../shared/videos/lecture_teacher.mp4 (720p, 24 fps, with sound) joined to itself without
re-encoding until it lasts --minutes. Runs alternate (single, segments, single, …) so machine noise hits both;
prints the medians, their ratio, face rows and tracks of each, and each run's peak memory (the parent's and its
worker processes' together, from /proc). ``--ray`` adds the segments as Ray tasks on a local Ray (started and
stopped inside each run, as ``fer analyze --ray local`` does): its time against the local processes' is Ray's
overhead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from fer.engine.analyze import analyze_video
from fer.engine.segments import analyze_in_segments
from fer.engine.video_io import VideoReader, join_mp4

SOURCE = Path(__file__).resolve().parents[2] / "shared" / "videos" / "lecture_teacher.mp4"


class PeakMemory:
    """Peak resident memory of this process plus its children, sampled every 0.2 s."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, sum(_rss_kb(pid) for pid in _family(os.getpid())) / 1024)
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _family(root: int) -> list[int]:
    """``root`` and every process below it, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    family, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        family += frontier
    return family


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-video", action="store_true")
    parser.add_argument("--ray", action="store_true", help="also run the segments on a local Ray")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with VideoReader(SOURCE) as video:
            copies = max(1, round(args.minutes * 60 / video.info.duration_s))
        clip = Path(tmp) / "lecture.mp4"
        join_mp4([SOURCE] * copies, clip)
        times: dict[str, list[float]] = {"single pass": [], "segments": []}
        if args.ray:
            times["segments on Ray"] = []
        for repeat in range(args.repeats):
            for name in times:
                out = Path(tmp) / f"{name.replace(' ', '_')}{repeat}"
                started = time.perf_counter()
                with PeakMemory() as memory:
                    if name == "single pass":
                        result = analyze_video(clip, out, write_video=not args.no_video)
                    else:
                        ray = "local" if name == "segments on Ray" else None
                        result = analyze_in_segments(
                            clip, out, workers=args.workers, write_video=not args.no_video, ray_address=ray
                        )
                times[name].append(time.perf_counter() - started)
                rows = len(pd.read_csv(out / "detections.csv"))
                print(
                    f"{name}: {times[name][-1]:.1f} s, {rows:,} face rows, {result.summary['tracks']} tracks, "
                    f"peak memory {memory.peak_mb:,.0f} MB",
                    flush=True,
                )
    single, segments = statistics.median(times["single pass"]), statistics.median(times["segments"])
    print(
        f"{copies * 8 / 60:.1f} min of 720p, {'no video' if args.no_video else 'with the annotated video'}: "
        f"single pass {single:.1f} s, {args.workers} segments {segments:.1f} s (medians of {args.repeats}); "
        f"segments are {single / segments:.2f}x the single pass's speed"
    )
    if args.ray:
        on_ray = statistics.median(times["segments on Ray"])
        print(f"on Ray {on_ray:.1f} s: {on_ray - segments:+.1f} s ({on_ray / segments:.2f}x) against local processes")


if __name__ == "__main__":
    main()
