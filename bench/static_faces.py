"""What the static-face check sees: per track, how much its thumbnail changes and where, on real and printed faces.

    python bench/static_faces.py [--videos ../shared/videos] [--rate 8]

For each shared clip and three printed faces made here (the portrait photo matplotlib ships, printed 520 px wide
and filmed hand-held and on a stand, and 160 px wide hand-held, 8 s at 30 fps), the analysis runs at the given
rate and prints, for every track judged (seen for ``min_seconds``): the mean thumbnail change over a second (grey
levels), the eye band's share of it and whether it was taken for a picture. The thresholds in
``fer.engine.static_faces.StaticConfig`` were set on these numbers (README, "Faces on pictures").
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
from matplotlib import cbook

from fer.engine import static_faces
from fer.engine.analyze import analyze_video
from fer.engine.pipeline import AnalysisSettings
from fer.engine.video_io import H264Writer

ROOT = Path(__file__).resolve().parents[1]
PRINTS = {"print_520px_hand": (520, 12.0), "print_520px_still": (520, 0.0), "print_160px_hand": (160, 12.0)}


def printed_face(path: Path, width: int, shake_px: float, seconds: int = 8, fps: int = 30) -> Path:
    """The portrait printed ``width`` px wide on a wall, filmed at 1280x720 by a hand that shakes by about
    ``shake_px`` (0: a stand), with sensor noise."""
    photo = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    scale = width / photo.shape[1]
    printed = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    offset = np.zeros(2)
    with H264Writer(path, fps) as writer:
        for i in range(seconds * fps):
            offset = 0.8 * offset + rng.normal(0, shake_px, 2) if shake_px else offset
            wall = np.full((720, 1280, 3), 120, np.uint8)
            cv2.rectangle(wall, (0, 500), (1280, 720), (60, 80, 100), -1)
            move = np.float32([[1, 0, 400 + offset[0]], [0, 1, 60 + offset[1]]])
            frame = cv2.warpAffine(printed, move, (1280, 720), dst=wall, borderMode=cv2.BORDER_TRANSPARENT)
            writer.write(np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8), time_s=i / fps)
    return path


def judged_tracks(video: Path, rate: float) -> list[str]:
    """One line per track judged, from the analysis' own StaticFaceDetector."""
    seen: list[static_faces.StaticFaceDetector] = []
    original = static_faces.StaticFaceDetector.static_ids

    def static_ids(detector: static_faces.StaticFaceDetector) -> set[int]:
        seen.append(detector)
        return original(detector)

    static_faces.StaticFaceDetector.static_ids = static_ids
    try:
        analyze_video(video, None, AnalysisSettings(rate=rate), write_video=False)
    finally:
        static_faces.StaticFaceDetector.static_ids = original
    detector = seen[-1]
    lines = []
    for track_id, track in sorted(detector.tracks.items()):
        if track.last_time - track.first_time >= detector.config.min_seconds:
            picture = "picture" if detector.is_static(track_id) else "face"
            lines.append(f"  track {track_id}: change {track.change:.1f}, eye share {track.eye_share:.2f}: {picture}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=Path, default=ROOT.parent / "shared" / "videos")
    parser.add_argument("--rate", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        videos = sorted(args.videos.glob("*.mp4"))
        videos += [printed_face(Path(folder) / f"{name}.mp4", *made) for name, made in PRINTS.items()]
        for video in videos:
            print(video.stem)
            print("\n".join(judged_tracks(video, args.rate)) or "  no track judged")


if __name__ == "__main__":
    main()
