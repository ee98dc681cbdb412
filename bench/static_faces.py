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
import sys
import tempfile
from pathlib import Path

from fer.engine import static_faces
from fer.engine.analyze import analyze_video
from fer.engine.pipeline import AnalysisSettings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import printed_face_clip  # noqa: E402

PRINTS = {  # name: (printed width px, hand shake px)
    "print_520px_hand": (520, 12.0),
    "print_520px_still": (520, 0.0),
    "print_160px_hand": (160, 12.0),
}
LESSON_FRAME = {"size": (1280, 720), "at": (400, 60), "seconds": 8, "fps": 30}  # a wall filmed at 720p, 8 s


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
        videos += [
            printed_face_clip(Path(folder) / f"{name}.mp4", width, shake, **LESSON_FRAME)
            for name, (width, shake) in PRINTS.items()
        ]
        for video in videos:
            print(video.stem)
            print("\n".join(judged_tracks(video, args.rate)) or "  no track judged")


if __name__ == "__main__":
    main()
