"""Video engine benchmarks: speed per setting, memory over a long video, accuracy on a face gallery.

    python bench/video.py speed   [--videos DIR] [--repeats 3]
    python bench/video.py memory  [--minutes 10]
    python bench/video.py gallery [--fer2013 ../shared/fer2013/test] [--seconds 60]

speed   - analyses every frame of computer_lab.mp4 and lecture_teacher.mp4 under each
          speed-up and prints the median wall time, x real time and the ratio to the
          baseline (every frame, native-resolution detection, annotated video written).
memory  - generates a long clip from computer_lab.mp4 and samples the process's
          resident memory while analysing it: flat means the same at 10% and 100%.
gallery - builds a video-call style 4x3 gallery from FER2013 test faces whose faces
          change every few seconds (labels known), runs the whole pipeline and reports
          the share of tiles detected and per-face accuracy after smoothing, beside the
          classifier's own accuracy on the same images.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fer.engine.analyze import Progress, analyze_video
from fer.engine.classifier import EmotionClassifier
from fer.engine.crops import DEFAULT_MARGIN
from fer.engine.pipeline import AnalysisSettings, FrameAnalyzer
from fer.engine.readability import ReadabilityConfig
from fer.engine.smoothing import SmoothingConfig
from fer.engine.video_io import H264Writer, VideoReader
from fer.training.data import load_image_folder

SHARED = Path(__file__).resolve().parents[2] / "shared"
SPEED_VARIANTS: dict[str, tuple[AnalysisSettings, bool]] = {
    "baseline: detect every frame at native size": (AnalysisSettings(detect_every=1), True),
    "detector input 640 px": (AnalysisSettings(detect_every=1, detector_max_side=640), True),
    "default: detect every 3rd frame, track between": (AnalysisSettings(detect_every=3), True),
    "detect every 6th frame": (AnalysisSettings(detect_every=6), True),
    "detect every 3rd + detector 640 px": (AnalysisSettings(detect_every=3, detector_max_side=640), True),
    "detect every 6th + detector 640 px": (AnalysisSettings(detect_every=6, detector_max_side=640), True),
    "default, no video": (AnalysisSettings(detect_every=3), False),
    "detect every 6th, no video": (AnalysisSettings(detect_every=6), False),
    "detect every 6th + 640 px, no video": (AnalysisSettings(detect_every=6, detector_max_side=640), False),
    "analyse every 2nd frame (--every 2)": (AnalysisSettings(rate=None, every=2), True),
}


def bench_speed(videos: Path, repeats: int) -> list[dict]:
    classifier = EmotionClassifier()
    classifier.warm_up()
    rows = []
    for name in ("computer_lab.mp4", "lecture_teacher.mp4"):
        path = videos / name
        with VideoReader(path) as video:
            info = video.info
        baseline = None
        for label, (settings, write_video) in SPEED_VARIANTS.items():
            times = []
            for _ in range(repeats):
                with tempfile.TemporaryDirectory() as out:
                    start = time.perf_counter()
                    result = analyze_video(path, out, settings, write_video=write_video, classifier=classifier)
                    times.append(time.perf_counter() - start)
            seconds = float(np.median(times))
            baseline = baseline or seconds
            row = {
                "video": f"{name} {info.width}x{info.height} {info.fps:.0f} fps",
                "variant": label,
                "median_s": round(seconds, 2),
                "x_realtime": round(result.summary["duration_s"] / seconds, 2),
                "speedup_vs_baseline": round(baseline / seconds, 2),
                "faces_tracked": result.summary["tracks"],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def make_long_clip(source: Path, target: Path, minutes: float) -> float:
    """Loop (forwards, then backwards) the source's frames into a clip of ``minutes``; returns its fps.

    Holds the source's frames in memory while writing, so measure memory only after this returns.
    """
    with VideoReader(source) as video:
        fps = video.info.fps
        frames = [frame.image for frame in video.frames()]
    cycle = frames + frames[-2:0:-1]
    total = round(minutes * 60 * fps)
    with H264Writer(target, fps, preset="ultrafast") as writer:
        for i in range(total):
            writer.write(cycle[i % len(cycle)])
    return fps


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def bench_memory(minutes: float, every: int) -> dict:
    classifier = EmotionClassifier()
    classifier.warm_up()
    samples: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "long.mp4"
        make_long_clip(SHARED / "videos" / "computer_lab.mp4", clip, minutes)
        print(f"generated {minutes} min clip ({clip.stat().st_size / 2**20:.0f} MB)", flush=True)

        def sample(progress: Progress) -> None:
            if progress.frames_analysed % 200 == 0:
                samples.append((progress.video_time_s, rss_mb()))

        before = rss_mb()
        settings = AnalysisSettings(rate=None, every=every, detect_every=3, detector_max_side=640)
        result = analyze_video(clip, Path(tmp) / "out", settings, on_progress=sample, classifier=classifier)
    if len(samples) < 8:
        raise SystemExit("the clip is too short to sample memory; use --minutes 1 or more")
    quarter = len(samples) // 4
    report = {
        "minutes": minutes,
        "frames_analysed": result.frames_analysed,
        "rss_before_mb": round(before, 1),
        "rss_at_10pct_mb": round(samples[len(samples) // 10][1], 1),
        "rss_at_50pct_mb": round(samples[len(samples) // 2][1], 1),
        "rss_at_end_mb": round(samples[-1][1], 1),
        "rss_max_first_quarter_mb": round(max(s[1] for s in samples[:quarter]), 1),
        "rss_max_last_quarter_mb": round(max(s[1] for s in samples[-quarter:]), 1),
        "processing_s": round(result.processing_s, 1),
    }
    print(json.dumps(report))
    return report


def build_gallery(
    images: np.ndarray, target: Path, seconds: float, change_s: float, fps: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """A 4x3 gallery of 200x200 tiles, each showing a FER face enlarged to 160 px, changing every ``change_s``.

    Returns the face indices shown, shape (changes, 12), and the tile boxes (12, 4).
    """
    rng = np.random.default_rng(seed)
    tile, face = 200, 160
    changes = int(np.ceil(seconds / change_s))
    shown = rng.choice(len(images), size=(changes, 12), replace=False)
    boxes = np.array([(c * tile, r * tile, (c + 1) * tile, (r + 1) * tile) for r in range(3) for c in range(4)])
    pad = (tile - face) // 2
    with H264Writer(target, fps, crf=18) as writer:
        for step in range(changes):
            canvas = np.zeros((3 * tile, 4 * tile, 3), np.uint8)
            for slot, (x1, y1, _, _) in enumerate(boxes):
                big = cv2.resize(images[shown[step, slot]], (face, face), interpolation=cv2.INTER_CUBIC)
                padded = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
                canvas[y1 : y1 + tile, x1 : x1 + tile] = cv2.cvtColor(padded, cv2.COLOR_GRAY2BGR)
            for _ in range(round(change_s * fps)):
                writer.write(canvas)
    return shown, boxes


# Abstention off: every face is read, as before readability existed (the baseline for its accuracy gain).
READ_EVERY_FACE = replace(
    ReadabilityConfig.load(),
    min_face_px=0.0,
    max_abs_yaw_deg=180.0,
    min_pitch_deg=-180.0,
    max_pitch_deg=180.0,
    min_sharpness=0.0,
    min_contrast=0.0,
    uncertain_below=0.0,
)


def bench_gallery(fer_test: Path, seconds: float, change_s: float, settle_s: float, margins: list[float]) -> dict:
    data = load_image_folder(fer_test)
    classifier = EmotionClassifier()
    direct = classifier.predict(data.images).argmax(axis=1)
    fps = 15
    report: dict = {"tiles": 12, "seconds": seconds, "change_every_s": change_s, "settle_s": settle_s}
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "gallery.mp4"
        shown, boxes = build_gallery(data.images, clip, seconds, change_s, fps, seed=0)
        report["classifier_accuracy_same_faces"] = round(float((direct[shown] == data.labels[shown]).mean()), 4)
        runs = [(margin, "ema", True) for margin in margins] + [(margins[0], "none", True), (margins[0], "ema", False)]
        for margin, smoothing, abstain in runs:
            settings = AnalysisSettings(crop_margin=margin, smoothing=SmoothingConfig(method=smoothing))
            readability = ReadabilityConfig.load() if abstain else READ_EVERY_FACE
            key = f"margin {margin} smoothing {smoothing}" + ("" if abstain else " every face read")
            report[key] = _score_gallery(
                clip, classifier, settings, readability, shown, boxes, data.labels, change_s, settle_s
            )
            print(json.dumps({key: report[key]}), flush=True)
    print(json.dumps(report, indent=1))
    return report


def _score_gallery(
    clip: Path,
    classifier: EmotionClassifier,
    settings: AnalysisSettings,
    readability: ReadabilityConfig,
    shown: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    change_s: float,
    settle_s: float,
) -> dict:
    analyzer = FrameAnalyzer(classifier, settings, readability=readability)
    tile_frames = detected = readable = correct = scored = 0
    with VideoReader(clip) as video:
        for frame in video.frames():
            step = min(int(frame.time_s // change_s), len(shown) - 1)
            result = analyzer.process(frame.image, frame.time_s)
            centres = (result.faces.xyxy[:, :2] + result.faces.xyxy[:, 2:]) / 2
            settled = frame.time_s - step * change_s >= settle_s
            for slot, (x1, y1, x2, y2) in enumerate(boxes):
                inside = np.flatnonzero(
                    (centres[:, 0] >= x1) & (centres[:, 0] < x2) & (centres[:, 1] >= y1) & (centres[:, 1] < y2)
                )
                tile_frames += 1
                if len(inside) == 0:
                    continue
                detected += 1
                read = bool(result.faces.readable[inside[0]])
                readable += read
                if settled and read:
                    scored += 1
                    correct += int(result.faces.class_index[inside[0]] == labels[shown[step, slot]])
    return {
        "tiles_detected": round(detected / tile_frames, 4),
        "readable_of_detected": round(readable / max(detected, 1), 4),
        "accuracy_settled_readable": round(correct / max(scored, 1), 4),
        "scored_tile_frames": scored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    speed = commands.add_parser("speed")
    speed.add_argument("--videos", type=Path, default=SHARED / "videos")
    speed.add_argument("--repeats", type=int, default=3)
    memory = commands.add_parser("memory")
    memory.add_argument("--minutes", type=float, default=10.0)
    memory.add_argument("--every", type=int, default=1)
    gallery = commands.add_parser("gallery")
    gallery.add_argument("--fer2013", type=Path, default=SHARED / "fer2013" / "test")
    gallery.add_argument("--seconds", type=float, default=60.0)
    gallery.add_argument("--change-every", type=float, default=3.0)
    gallery.add_argument("--settle", type=float, default=1.0, help="seconds after a face change not scored")
    gallery.add_argument("--margins", type=float, nargs="+", default=[DEFAULT_MARGIN])
    args = parser.parse_args()
    if args.command == "speed":
        bench_speed(args.videos, args.repeats)
    elif args.command == "memory":
        bench_memory(args.minutes, args.every)
    else:
        bench_gallery(args.fer2013, args.seconds, args.change_every, args.settle, args.margins)


if __name__ == "__main__":
    main()
