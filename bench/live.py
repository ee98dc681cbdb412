"""Live frame worker speed: 640x480 frames with one face and with a 12-face video-call gallery.

    python bench/live.py [--frames 150]

Feeds frames through ``LiveProcessor.process`` (the same call the WebRTC thread makes)
and reports processed frames per second and the latency it adds per frame (median
and 95th percentile), after 10 warm-up frames.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fer.engine.classifier import EmotionClassifier
from fer.engine.live import LiveProcessor
from fer.engine.video_io import VideoReader
from fer.training.data import load_image_folder

SHARED = Path(__file__).resolve().parents[2] / "shared"


def one_face_frames(count: int) -> list[np.ndarray]:
    with VideoReader(SHARED / "videos" / "smiling_woman.mp4") as video:
        frames = [cv2.resize(frame.image, (640, 480)) for frame in video.frames()]
    return [frames[i % len(frames)] for i in range(count)]


def gallery_frames(count: int) -> list[np.ndarray]:
    """A 4x3 gallery of FER2013 test faces (160x160 tiles), a new set every 30 frames."""
    faces = load_image_folder(SHARED / "fer2013" / "test").images
    rng = np.random.default_rng(0)
    frames = []
    for i in range(count):
        if i % 30 == 0:
            chosen = rng.choice(len(faces), 12, replace=False)
            canvas = np.zeros((480, 640, 3), np.uint8)
            for slot, index in enumerate(chosen):
                row, column = divmod(slot, 4)
                tile = cv2.resize(faces[index], (120, 120), interpolation=cv2.INTER_CUBIC)
                tile = cv2.copyMakeBorder(tile, 20, 20, 20, 20, cv2.BORDER_REPLICATE)
                canvas[row * 160 : (row + 1) * 160, column * 160 : (column + 1) * 160] = tile[..., None]
        frames.append(canvas)
    return frames


def measure(processor: LiveProcessor, frames: list[np.ndarray]) -> tuple[float, float, float, float]:
    for frame in frames[:10]:
        processor.process(frame)
    latencies = []
    for frame in frames[10:]:
        start = time.perf_counter()
        processor.process(frame)
        latencies.append(time.perf_counter() - start)
    stats = processor.stats()
    return (
        1 / float(np.mean(latencies)),
        float(np.median(latencies)) * 1000,
        float(np.percentile(latencies, 95)) * 1000,
        stats.faces,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=150)
    args = parser.parse_args()
    classifier = EmotionClassifier()
    classifier.warm_up()
    for label, frames in (("1 face", one_face_frames(args.frames)), ("12-face gallery", gallery_frames(args.frames))):
        processor = LiveProcessor(classifier)
        fps, median_ms, p95_ms, faces = measure(processor, frames)
        processor.close()
        print(
            f"{label}: {fps:.1f} processed fps, latency median {median_ms:.1f} ms, p95 {p95_ms:.1f} ms "
            f"({faces} faces in the last frame)"
        )


if __name__ == "__main__":
    main()
