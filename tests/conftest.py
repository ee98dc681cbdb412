"""Shared fixtures: small generated data sets in both FER2013 layouts (with bad files mixed in),
a real face photo, short generated video clips and the shipped classifier loaded once."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest
from matplotlib import cbook

from fer.labels import CLASSES

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FER2013 = SHARED / "fer2013"
VIDEOS = SHARED / "videos"

needs_fer2013 = pytest.mark.skipif(
    not (FER2013 / "test").is_dir(), reason=f"FER2013 not found at {FER2013} (the shared data folder)"
)
CHROMIUM = Path("/usr/bin/chromium")  # Debian's, never a browser Playwright downloads

needs_videos = pytest.mark.skipif(
    not (VIDEOS / "smiling_woman.mp4").is_file(), reason=f"shared clips not found at {VIDEOS}"
)


def portrait() -> np.ndarray:
    """A real face on any machine: the Grace Hopper photo matplotlib ships (512x600 BGR, face near x 175-357)."""
    return cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def write_face_clip(path: Path, frames: int = 20, fps: float = 10.0, face: bool = True, portrait_px: int = 160) -> Path:
    """A 400x300 H.264 clip of the portrait (``portrait_px`` wide; its face about 0.36 of that) sliding right and
    back, or a plain grey clip without a face."""
    from fer.engine.video_io import H264Writer

    height = round(portrait_px * 600 / 512)
    small = cv2.resize(portrait(), (portrait_px, height), interpolation=cv2.INTER_AREA)
    top = (300 - height) // 2
    with H264Writer(path, fps) as writer:
        for i in range(frames):
            canvas = np.full((300, 400, 3), 90, np.uint8)
            if face:
                step = 8 * i % 400
                x = 20 + (step if step <= 200 else 400 - step)  # back and forth, so a clip can be long
                canvas[top : top + height, x : x + portrait_px] = small
            writer.write(canvas)
    return path


def printed_face_clip(
    path: Path,
    width_px: int,
    shake_px: float,
    size: tuple[int, int] = (640, 360),
    at: tuple[int, int] = (180, 20),
    seconds: int = 5,
    fps: int = 24,
) -> Path:
    """The portrait printed ``width_px`` wide on a grey wall (its top-left at ``at``), filmed at ``size`` by a hand
    that shakes by about ``shake_px`` (0: a camera on a stand), with sensor noise: a picture, never a person."""
    from fer.engine.video_io import H264Writer

    scale = width_px / portrait().shape[1]
    printed = cv2.resize(portrait(), None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(0)
    offset = np.zeros(2)
    with H264Writer(path, fps) as writer:
        for i in range(seconds * fps):
            offset = 0.8 * offset + rng.normal(0, shake_px, 2) if shake_px else offset
            move = np.float32([[1, 0, at[0] + offset[0]], [0, 1, at[1] + offset[1]]])
            wall = np.full((size[1], size[0], 3), 120, np.uint8)
            frame = cv2.warpAffine(printed, move, size, dst=wall, borderMode=cv2.BORDER_TRANSPARENT)
            writer.write(np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8), time_s=i / fps)
    return path


@pytest.fixture(scope="session")
def face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_face_clip(tmp_path_factory.mktemp("clips") / "face.mp4")


@pytest.fixture(scope="session")
def classifier():
    """The shipped model, loaded and compiled once for the whole test session."""
    from fer.engine.classifier import EmotionClassifier

    model = EmotionClassifier()
    model.warm_up()
    return model


def random_face(rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """A textured 48x48 uint8 image (not a face; loaders and shapes don't care)."""
    base = rng.integers(0, 256, size=(size // 4, size // 4), dtype=np.uint8)
    return cv2.resize(base, (size, size), interpolation=cv2.INTER_LINEAR)


@pytest.fixture
def image_tree(tmp_path: Path) -> Path:
    """class folders angry/happy/sad with 6 images each, plus one of every kind of bad file."""
    rng = np.random.default_rng(0)
    root = tmp_path / "faces"
    for name in ("angry", "happy", "sad"):
        (root / name).mkdir(parents=True)
        for i in range(6):
            cv2.imwrite(str(root / name / f"{i}.jpg"), random_face(rng))
    (root / "happy" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (root / "happy" / "empty.jpg").write_bytes(b"")
    (root / "sad" / "notes.txt").write_text("not an image")
    cv2.imwrite(str(root / "sad" / "big.png"), random_face(rng, size=96))
    (root / "unrelated").mkdir()
    return root


@pytest.fixture
def fer_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    path = tmp_path / "fer2013.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["emotion", "pixels", "Usage"])
        for i in range(14):
            pixels = " ".join(str(v) for v in random_face(rng).ravel())
            writer.writerow([i % len(CLASSES), pixels, "Training" if i < 10 else "PublicTest"])
        writer.writerow([3, "1 2 3", "Training"])  # too few pixels
        writer.writerow([9, " ".join(["0"] * 2304), "Training"])  # label out of range
        writer.writerow(["x", " ".join(["0"] * 2304), "Training"])  # unparsable label
        writer.writerow([2, " ".join(["nan"] * 2304), "Training"])  # not a number
        writer.writerow([2])  # row cut short
    return path


@pytest.fixture(scope="module")
def playwright():
    """One Playwright per module: a second sync instance cannot start while the first one runs."""
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with playwright_api.sync_playwright() as instance:
        yield instance
