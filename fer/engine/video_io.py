"""Video in and out with PyAV (FFmpeg): frames streamed one at a time, browser-playable H.264 out.

Reading keeps memory flat in video length, takes each frame's time from its
timestamp (variable frame rates stay right), turns rotated phone videos
upright, and skips frames FFmpeg cannot decode instead of failing. Writing
produces H.264 / yuv420p with even sides, which every browser plays (OpenCV's
mp4v does not), and only appears under its final name once complete.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

_STILL_IMAGE_FORMATS = {"image2"}  # plus every "*_pipe" format: png_pipe, jpeg_pipe, ...


class VideoError(ValueError):
    """The input is not a readable video; the message says why in one line."""


@dataclass(frozen=True)
class VideoInfo:
    width: int  # after rotation
    height: int
    fps: float  # average; frames may still come at varying intervals
    duration_s: float  # 0.0 when the container does not say
    frame_count: int  # estimate; 0 when unknown
    rotation: int  # counter-clockwise degrees applied to stored frames to show them upright
    codec: str


@dataclass(frozen=True)
class Frame:
    index: int  # 0-based position among the source's decodable frames (= source index unless packets were lost)
    time_s: float  # seconds from the first frame
    image: np.ndarray  # BGR, upright
    scale: float = 1.0  # image pixels per source pixel (< 1 when a large video is read at a capped size)


# What one analysis takes on: beyond these a file is refused at once with the reason, not ground through for days.
MAX_DURATION_S = 6 * 3600.0
MAX_FRAMES = 6 * 3600 * 60
MAX_PIXELS = 7680 * 4320  # 8K; larger frames cost too much to decode even when read scaled down


def _check_limits(name: str, info: VideoInfo) -> None:
    if info.width * info.height > MAX_PIXELS:
        raise VideoError(f"{name}: {info.width}x{info.height} is larger than the 8K (7680x4320) the app reads")
    if info.duration_s > MAX_DURATION_S:
        raise VideoError(
            f"{name}: it says it lasts {info.duration_s / 3600:.1f} h; recordings of up to "
            f"{MAX_DURATION_S / 3600:.0f} h are analysed (split it, or check the file: its timing may be broken)"
        )
    if info.frame_count > MAX_FRAMES:
        raise VideoError(f"{name}: {info.frame_count:,} frames is more than the {MAX_FRAMES:,} the app analyses")


def capped_scale(info: VideoInfo, max_side: int | None) -> float:
    """Image pixels per source pixel when frames are read at most ``max_side`` on their longer side."""
    longer = max(info.width, info.height)
    return max_side / longer if max_side and longer > max_side else 1.0


class VideoReader:
    """``with VideoReader(path) as video: for frame in video.frames(every=N): ...``"""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise VideoError(f"{self.path}: no such file")
        if self.path.stat().st_size == 0:
            raise VideoError(f"{self.path.name}: the file is empty")
        try:
            self._container = av.open(str(self.path), metadata_errors="ignore")
        except (av.error.FFmpegError, UnicodeDecodeError) as error:
            raise VideoError(f"{self.path.name}: not a video file FFmpeg can read ({_reason(error)})") from error
        if not self._container.streams.video:
            self._container.close()
            raise VideoError(f"{self.path.name}: the file has no video stream")
        if self._container.format.name in _STILL_IMAGE_FORMATS or self._container.format.name.endswith("_pipe"):
            self._container.close()
            raise VideoError(f"{self.path.name}: this is a still image, not a video")
        self._stream = self._container.streams.video[0]
        if self._stream.codec_context is None:  # FFmpeg has no decoder for it: fail now, not after reading it all
            self._container.close()
            raise VideoError(f"{self.path.name}: the video codec is not supported")
        self._stream.thread_type = "AUTO"
        self.corrupt_frames = 0
        self._decoder = self._decoded()
        try:
            self._first: av.VideoFrame | None = next(self._decoder, None)
        except av.error.FFmpegError as error:
            self._first = None
            self.corrupt_frames += 1
            reason = _reason(error)
        else:
            reason = "empty, truncated or unsupported codec"
        if self._first is None:
            self._container.close()
            raise VideoError(f"{self.path.name}: no decodable video frames ({reason})")
        try:
            self.info = self._probe()
            _check_limits(self.path.name, self.info)
        except BaseException:
            self._container.close()
            raise

    def _probe(self) -> VideoInfo:
        stream = self._stream
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        if not math.isfinite(fps) or fps <= 0 or fps > 1000:
            fps = 30.0
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif self._container.duration:
            duration = self._container.duration / av.time_base
        else:
            duration = 0.0
        frame_count = stream.frames or round(duration * fps)
        rotation = round(self._first.rotation / 90) % 4 * 90
        width, height = self._first.width, self._first.height
        if rotation in (90, 270):
            width, height = height, width
        return VideoInfo(width, height, fps, duration, frame_count, rotation, stream.codec_context.name)

    def frames(self, every: int = 1, max_side: int | None = None) -> Iterator[Frame]:
        """Every ``every``-th decodable frame, upright, with its timestamp in seconds. Call once.

        With ``max_side``, a video whose longer side exceeds it is scaled down as it is decoded (FFmpeg's
        area filter), so memory per frame stays bounded for 4K and 8K input.
        """
        if every < 1:
            raise ValueError("every must be >= 1")
        scale = capped_scale(self.info, max_side)
        size = {}
        first, self._first = self._first, None
        if first is None:
            raise RuntimeError("frames() can only be iterated once per reader")
        start = first.pts if first.pts is not None else 0
        time_base = self._stream.time_base or Fraction(1, 1)
        for index, frame in enumerate(itertools.chain([first], self._decoder)):
            if index % every == 0:
                time_s = float((frame.pts - start) * time_base) if frame.pts is not None else index / self.info.fps
                if scale != 1.0:  # the stored (not yet upright) size, even for H.264 output
                    size = {"width": round(frame.width * scale / 2) * 2, "height": round(frame.height * scale / 2) * 2}
                    size["interpolation"] = "AREA"
                image = _upright(frame.to_ndarray(format="bgr24", **size), frame.rotation)
                yield Frame(index, max(time_s, 0.0), image, scale)

    def _decoded(self) -> Iterator[av.VideoFrame]:
        """Decoded frames; packets FFmpeg rejects are counted in ``corrupt_frames`` and skipped.

        A file cut short or unreadable part-way ends the stream there (counted once) instead of failing.
        """
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except av.error.FFmpegError:
                self.corrupt_frames += 1
                yield from self._flush()
                return
            try:
                yield from packet.decode()
            except av.error.FFmpegError:
                self.corrupt_frames += 1

    def _flush(self) -> Iterator[av.VideoFrame]:
        """Frames still inside the (multi-threaded) decoder when the input ends early."""
        try:
            yield from self._stream.codec_context.decode(None)
        except av.error.FFmpegError:
            return

    def close(self) -> None:
        self._container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class H264Writer:
    """Context-managed H.264 sink: frames go to ``<name>.partial.mp4``, renamed to ``path`` on success.

    Frames of any size are cropped to even sides (yuv420p needs them);
    on an exception the partial file is deleted. x264's ``ultrafast`` preset
    keeps encoding off the critical path on two cores (files are ~2x larger
    than ``veryfast`` at the same quality).
    """

    def __init__(self, path: str | Path, fps: float, crf: int = 23, preset: str = "ultrafast") -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.stem + ".partial.mp4")
        self.fps = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)
        self.options = {"crf": str(crf), "preset": preset}
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self.frames_written = 0

    def __enter__(self) -> H264Writer:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # faststart puts the index first, so a browser can start playing before the whole file arrives
        self._container = av.open(str(self.partial), mode="w", format="mp4", options={"movflags": "+faststart"})
        return self

    def write(self, image: np.ndarray) -> None:
        height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
        if height == 0 or width == 0:
            raise ValueError(f"frame too small to encode: {image.shape}")
        if self._stream is None:
            self._stream = self._container.add_stream("libx264", rate=self.fps)
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = self.options
        image = np.ascontiguousarray(image[:height, :width])
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        self._container.mux(self._stream.encode(frame))
        self.frames_written += 1

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        complete = exc_type is None and self.frames_written > 0
        try:
            if complete:
                self._container.mux(self._stream.encode(None))
        except BaseException:
            complete = False
            raise
        finally:
            try:
                self._container.close()
            except av.error.FFmpegError:
                complete = False
                if exc_type is None:
                    raise
            finally:
                if complete:
                    self.partial.replace(self.path)
                else:
                    self.partial.unlink(missing_ok=True)


def _upright(image: np.ndarray, rotation: float) -> np.ndarray:
    """Apply the frame's display rotation (FFmpeg gives it counter-clockwise)."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error).split(":")[-1].strip() or type(error).__name__
