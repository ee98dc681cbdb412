"""Same-run speed of ``fer analyze`` in two checkouts (e.g. before and after a change), interleaved.

    git worktree add /tmp/before <rev>
    python bench/analyze_ab.py /tmp/before . [--videos ../shared/videos] [--rounds 3] [-- extra fer analyze args]
    python bench/analyze_ab.py . . --after-args "--profile accurate"   # two settings in one checkout

Each round runs every clip once per checkout, alternating, so the machine's noise hits
both alike; prints each checkout's median wall time per clip (process start to exit,
default settings, annotated video written) and the ratio after / before.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLIPS = ("computer_lab.mp4", "lecture_teacher.mp4")


def run_once(tree: Path, clip: Path, extra: list[str]) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "fer", "analyze", str(clip), "--out", out, *extra],
            cwd=tree,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--videos", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "videos")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--after-args", default="", help="arguments for the 'after' runs only")
    parser.add_argument("extra", nargs="*", help="arguments for fer analyze (after --)")
    args = parser.parse_args()
    side_args = {"before": args.extra, "after": [*args.extra, *shlex.split(args.after_args)]}
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for clip in CLIPS:
            for name, tree in trees.items():
                times.setdefault((clip, name), []).append(run_once(tree, args.videos / clip, side_args[name]))
    for clip in CLIPS:
        before, after = (float(np.median(times[(clip, name)])) for name in trees)
        print(
            json.dumps(
                {
                    "clip": clip,
                    "before_median_s": round(before, 2),
                    "after_median_s": round(after, 2),
                    "after_over_before": round(after / before, 3),
                    "runs": {name: [round(t, 2) for t in times[(clip, name)]] for name in trees},
                }
            )
        )


if __name__ == "__main__":
    main()
