"""How far a faster analysis setting moves what the teacher reads, against full-rate analysis, on real clips.

    git worktree add /tmp/before <rev>                     # the reference: that checkout's full-rate analysis
    python bench/rate_agreement.py --reference-tree /tmp/before                  # the defaults against it
    python bench/rate_agreement.py --candidate "--rate 6 --detect-every 2" --candidate "--rate 10" \
        [--lesson bench/out/lesson_720p_3min.mp4]

The reference is ``fer analyze --every 1`` (every frame, the detector every 3rd at full resolution) in
``--reference-tree`` (default: this checkout; there add ``--reference-args "--every 1 --full-detect-every 0"``
for whole-frame looks only, to see what the rate and the face-following detection change on their own); each
candidate is ``fer analyze`` with its arguments here. For each clip of ``../shared/videos`` (and lessons built by
bench/lesson.py, if given) and each candidate, printed: the largest difference of a group's share (positive,
neutral, surprise, negative) in any minute, in percentage points; the difference of the mean number of faces
present per second (face recall, %); of the share of face time read (points); the tracks found; and the analysis
time in the summary.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from lesson import CLIPS  # the shared clips, as the lesson is built from them

from fer.engine.aggregate import GROUPS

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = "--every 1"


def minute_groups(timeline: pd.DataFrame) -> pd.DataFrame:
    """Per minute, each group's share of the faces read (readings pooled over the minute's seconds)."""
    read = timeline["faces_readable"].to_numpy(float)
    minute = (timeline["time_s"] // 60).astype(int)
    rows = {}
    for group, members in GROUPS.items():
        counts = timeline[[f"share_{c}" for c in members]].fillna(0).sum(axis=1).to_numpy() * read
        rows[group] = pd.Series(counts).groupby(minute.to_numpy()).sum()
    totals = pd.Series(read).groupby(minute.to_numpy()).sum()
    return pd.DataFrame(rows).div(totals.replace(0, np.nan), axis=0)


def measure(tree: Path, clip: Path, arguments: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "fer", "analyze", str(clip.resolve()), "--out", out, "--no-video"]
        subprocess.run([*command, *shlex.split(arguments)], cwd=tree, check=True, capture_output=True)
        timeline = pd.read_csv(Path(out) / "timeline.csv")
        summary = json.loads((Path(out) / "summary.json").read_text())
    return {
        "groups": minute_groups(timeline),
        "faces_per_s": float(timeline["faces"].mean()),
        "readable_share": float(summary["readable_share"] or 0.0),
        "tracks": int(summary["tracks"]),
        "seconds": float(summary["processing_s"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--lesson", type=Path, action="append", default=[])
    parser.add_argument("--reference-tree", type=Path, default=ROOT)
    parser.add_argument("--reference-args", default=REFERENCE, help=f"fer analyze arguments (default {REFERENCE!r})")
    parser.add_argument("--candidate", action="append", help="fer analyze arguments, e.g. '--rate 8' (default: none)")
    parser.add_argument("--profile", default="accurate")
    args = parser.parse_args()
    candidates = args.candidate or [""]
    clips = [args.videos / name for name in CLIPS] + args.lesson
    profile = f" --profile {args.profile}"
    print("clip | setting | max group diff/min (pp) | faces/s diff (%) | read share diff (pp) | tracks | seconds")
    for clip in clips:
        base = measure(args.reference_tree, clip, args.reference_args + profile)
        print(f"{clip.name} | reference, full rate | 0 | 0 | 0 | {base['tracks']} | {base['seconds']:.1f}")
        for arguments in candidates:
            got = measure(ROOT, clip, arguments + profile)
            diff = (got["groups"] - base["groups"]).abs().to_numpy()
            worst = float(np.nanmax(diff)) * 100 if np.isfinite(diff).any() else float("nan")
            faces = (got["faces_per_s"] / base["faces_per_s"] - 1) * 100 if base["faces_per_s"] else 0.0
            read = (got["readable_share"] - base["readable_share"]) * 100
            row = [clip.name, arguments or "defaults", f"{worst:.1f}", f"{faces:+.1f}", f"{read:+.1f}"]
            print(" | ".join([*row, str(got["tracks"]), f"{got['seconds']:.1f}"]), flush=True)


if __name__ == "__main__":
    main()
