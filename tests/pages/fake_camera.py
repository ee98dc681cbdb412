"""Chromium's fake camera for the Live page's browser tests: a clip as Y4M, and a browser that films it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from tests.conftest import CHROMIUM, VIDEOS, write_face_clip


def camera_clip(folder: Path) -> Path:
    """What the fake camera films: the shared smiling woman where ../shared is, else the portrait clip."""
    shared = VIDEOS / "smiling_woman.mp4"
    return shared if shared.is_file() else write_face_clip(folder / "portrait.mp4", frames=46, fps=10.0)


def fake_camera_browser(playwright, tmp_path: Path):
    camera = to_y4m(camera_clip(tmp_path), tmp_path / "camera.y4m")
    args = [
        "--no-sandbox",
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
        "--disable-features=WebRtcHideLocalIpsWithMdns",  # plain host candidates that aiortc can reach
    ]
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)


def to_y4m(source: Path, target: Path, width: int = 640, height: int = 480) -> Path:
    """Chromium's fake camera reads Y4M: the clip's frames as raw yuv420p, letterboxed into ``width`` x ``height``.

    Letterboxed, not stretched: a 16:9 clip squeezed into 4:3 makes every face a third taller than any
    real camera would, and CenterFace then draws its box low on the face (top at the eyebrows, bottom
    at the collar), which looked like a fault of the live overlay.
    """
    import cv2

    from fer.engine.video_io import VideoReader

    with VideoReader(source) as video, av.open(str(target), "w", format="yuv4mpegpipe") as out:
        stream = out.add_stream("rawvideo", rate=round(video.info.fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in video.frames():
            scale = min(width / frame.image.shape[1], height / frame.image.shape[0])
            fitted = cv2.resize(frame.image, (round(frame.image.shape[1] * scale), round(frame.image.shape[0] * scale)))
            top, left = (height - fitted.shape[0]) // 2, (width - fitted.shape[1]) // 2
            image = np.zeros((height, width, 3), np.uint8)
            image[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        out.mux(stream.encode(None))
    return target
