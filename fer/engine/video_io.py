"""Video in and out with PyAV (FFmpeg): frames streamed one at a time, browser-playable H.264 out.

Reading keeps memory flat in video length, takes each frame's time from its
timestamp (variable frame rates stay right), turns rotated phone videos
upright, and skips frames FFmpeg cannot decode instead of failing. Writing
produces H.264 / yuv420p with even sides, which every browser plays (OpenCV's
mp4v does not), and only appears under its final name once complete. Given the
source recording, the writer also carries its sound over as AAC, streamed and
kept to the written video's timeline.
"""

from __future__ import annotations

import contextlib
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
VIDEO_TYPES = ("mp4", "mov", "avi", "mkv", "webm")  # what uploads and folders of recordings are taken from
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


# What every browser plays in a <video> element without the server re-encoding anything: MP4/MOV with H.264 (8-bit
# 4:2:0), or WebM/MP4 with VP8, VP9 or AV1; sound in a codec browsers decode, or none.
_PLAYABLE = {
    "mov,mp4,m4a,3gp,3g2,mj2": {"h264", "vp9", "av1"},
    "matroska,webm": {"vp8", "vp9", "av1"},
}
_PLAYABLE_PIXELS = {"yuv420p", "yuvj420p"}
_PLAYABLE_SOUND = {"aac", "mp3", "opus", "vorbis"}


def browser_playable(path: str | Path) -> bool:
    """Whether browsers play this recording as it is (the report then plays it, with the boxes drawn over it)."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            codecs = _PLAYABLE.get(container.format.name, set())
            video = container.streams.video[0] if container.streams.video else None
            if video is None or video.codec_context is None or video.codec_context.name not in codecs:
                return False
            if video.codec_context.name == "h264" and video.codec_context.pix_fmt not in _PLAYABLE_PIXELS:
                return False  # 10-bit or 4:2:2/4:4:4 H.264: browsers refuse it
            sounds = [a.codec_context.name for a in container.streams.audio if a.codec_context is not None]
            return all(name in _PLAYABLE_SOUND for name in sounds[:1])
    except (av.error.FFmpegError, OSError, UnicodeDecodeError):
        return False


class FramePicker:
    """Which decoded frames an analysis takes: every ``every``-th, or with ``rate`` the first frame at or after each
    multiple of 1/``rate`` s (a grid anchored at 0 s, so time segments and a single pass pick the same frames, and
    variable frame rates or lost frames do not shift it). A rate at or above the video's takes every frame."""

    def __init__(self, every: int = 1, rate: float | None = None, fps: float = 30.0, from_s: float = 0.0) -> None:
        if every < 1:
            raise ValueError("every must be >= 1")
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self.every = every
        self.period = 1.0 / rate if rate is not None else None
        self.fps = fps
        self._next_s = math.ceil(from_s / self.period - 1e-9) * self.period if self.period else 0.0

    def takes(self, index: int, time_s: float) -> bool:
        if self.period is None:
            return index % self.every == 0
        if time_s < self._next_s - 1e-6:
            return False
        self._next_s += self.period * (math.floor((time_s - self._next_s) / self.period + 1e-9) + 1)
        return True

    def index(self, position: int, time_s: float) -> int:
        """The frame's index: its position among decoded frames, or (with a rate) its timestamp times the rate."""
        return position if self.period is None else round(time_s * self.fps)


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
        # where the first frame sits on the file's clock: Frame.time_s counts from here, and so does the sound
        time_base = self._stream.time_base or Fraction(1, 1)
        self.start_s = float(self._first.pts * time_base) if self._first.pts is not None else 0.0
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

    def frames(self, every: int = 1, max_side: int | None = None, rate: float | None = None) -> Iterator[Frame]:
        """Every ``every``-th decodable frame, or with ``rate`` the first frame at or after each 1/``rate`` s, upright,
        with its timestamp in seconds. Call once.

        With ``max_side``, a video whose longer side exceeds it is scaled down as it is decoded (FFmpeg's
        area filter), so memory per frame stays bounded for 4K and 8K input. With ``rate``, only the picked frames
        are converted to pictures, and a frame's index is its timestamp times the frame rate.
        """
        picker = FramePicker(every, rate, self.info.fps)
        first, self._first = self._first, None
        if first is None:
            raise RuntimeError("frames() can only be iterated once per reader")
        start = first.pts if first.pts is not None else 0
        time_base = self._stream.time_base or Fraction(1, 1)
        for index, frame in enumerate(itertools.chain([first], self._decoder)):
            time_s = float((frame.pts - start) * time_base) if frame.pts is not None else index / self.info.fps
            time_s = max(time_s, 0.0)
            if picker.takes(index, time_s):
                yield self._frame(frame, picker.index(index, time_s), time_s, max_side)

    def frames_between(
        self, start_s: float, end_s: float, every: int = 1, max_side: int | None = None, rate: float | None = None
    ) -> Iterator[Frame]:
        """The frames ``frames(every, rate=rate)`` would give from ``start_s`` (inclusive) to ``end_s`` (exclusive),
        reached by seeking to the key frame before ``start_s``: one time segment of a recording. Call once.

        A frame's index is its timestamp times the frame rate (the same as ``frames`` for a constant-rate file).
        """
        picker = FramePicker(every, rate, self.info.fps, from_s=start_s)
        if self._first is None:
            raise RuntimeError("frames can only be iterated once per reader")
        time_base = self._stream.time_base or Fraction(1, 1)
        if start_s > 0:
            self._container.seek(int((start_s + self.start_s) / time_base), stream=self._stream, backward=True)
            self._decoder = self._decoded()
        else:
            self._decoder = itertools.chain([self._first], self._decoder)
        self._first = None
        for frame in self._decoder:
            if frame.pts is None:
                continue
            time_s = max(float(frame.pts * time_base) - self.start_s, 0.0)
            if time_s >= end_s:
                return
            index = round(time_s * self.info.fps)
            if time_s >= start_s - 1e-6 and picker.takes(index, time_s):
                yield self._frame(frame, index, time_s, max_side)

    def skip_unreferenced_frames(self) -> None:
        """Let the decoder skip frames no other frame is predicted from (B-frames): when only a few frames a second
        are analysed, most of those are never needed, and not decoding them saves a large part of the decoding
        time. Frames only come from the rest then (for a file without such frames, nothing changes)."""
        self._stream.codec_context.skip_frame = "NONREF"

    def _frame(self, frame: av.VideoFrame, index: int, time_s: float, max_side: int | None) -> Frame:
        scale = capped_scale(self.info, max_side)
        size = {}
        if scale != 1.0:  # the stored (not yet upright) size, even for H.264 output
            size = {"width": round(frame.width * scale / 2) * 2, "height": round(frame.height * scale / 2) * 2}
            size["interpolation"] = "AREA"
        return Frame(index, time_s, _upright(frame.to_ndarray(format="bgr24", **size), frame.rotation), scale)

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

    With ``sound_from`` (the source recording) and ``sound_start_s`` (where its first
    frame sits, ``VideoReader.start_s``), the source's first audio track is copied
    in as AAC alongside the frames written, in sync with them when ``write`` gets
    each frame's ``time_s``. Sound that cannot be read never fails the video: the
    reason lands in ``sound_warnings``.
    """

    def __init__(
        self,
        path: str | Path,
        fps: float,
        crf: int = 23,
        preset: str = "ultrafast",
        *,
        sound_from: str | Path | None = None,
        sound_start_s: float = 0.0,
    ) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.stem + ".partial.mp4")
        self.fps = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)
        self.options = {"crf": str(crf), "preset": preset}
        self._container: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._sound_from = Path(sound_from) if sound_from is not None else None
        self._sound_start_s = sound_start_s
        self._sound: _SoundTrack | None = None
        self._sound_warnings: list[str] = []
        self.frames_written = 0

    @property
    def has_sound(self) -> bool:
        """Whether the output carries the source's sound (known from the first frame written on)."""
        return self._sound is not None and self._sound.added

    @property
    def sound_warnings(self) -> list[str]:
        """Plain sentences on sound the output lacks; complete once the writer has closed."""
        return self._sound_warnings + (self._sound.warnings() if self._sound is not None else [])

    def __enter__(self) -> H264Writer:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # faststart puts the index first, so a browser can start playing before the whole file arrives
        self._container = av.open(str(self.partial), mode="w", format="mp4", options={"movflags": "+faststart"})
        if self._sound_from is not None:
            self._sound, problem = _SoundTrack.open(self._sound_from, self._sound_start_s)
            if problem:
                self._sound_warnings.append(problem)
        return self

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """Append a frame; ``time_s`` (seconds from the source's first frame) keeps the sound in step with it."""
        height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
        if height == 0 or width == 0:
            raise ValueError(f"frame too small to encode: {image.shape}")
        if self._stream is None:
            self._stream = self._container.add_stream("libx264", rate=self.fps)
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = self.options
            if self._sound is not None:  # every stream is added before the first packet goes out
                self._sound.add_to(self._container)
        image = np.ascontiguousarray(image[:height, :width])
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        self._container.mux(self._stream.encode(frame))
        shown_from = self.frames_written / self.fps
        self.frames_written += 1
        if self._sound is not None:  # the sound of this frame's span, up to where the next frame starts
            offset_s = float(shown_from) - (time_s if time_s is not None else float(shown_from))
            self._sound.advance(self.frames_written / self.fps, offset_s)

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        complete = exc_type is None and self.frames_written > 0
        try:
            if complete:
                self._container.mux(self._stream.encode(None))
                if self._sound is not None:
                    self._sound.finish()
        except BaseException:
            complete = False
            raise
        finally:
            try:
                if self._sound is not None:
                    self._sound.close()
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


def join_mp4(parts: list[Path], target: Path) -> None:
    """Join MP4 files of the same codecs and settings (``H264Writer``'s segments) one after the other, without
    re-encoding: each part starts where the previous part's video ended, its sound with it."""
    partial = target.with_name(target.stem + ".partial.mp4")
    try:
        with av.open(str(partial), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            outputs: dict[int, av.stream.Stream] = {}
            last_dts: dict[int, int] = {}
            offset_s = 0.0
            for part in parts:
                with av.open(str(part)) as source:
                    if not outputs:
                        outputs = {s.index: out.add_stream_from_template(s) for s in source.streams if s.type in _KEPT}
                    shifts: dict[int, int] = {}
                    part_end_s = offset_s
                    for packet in source.demux([s for s in source.streams if s.index in outputs]):
                        if packet.dts is None:
                            continue
                        stream = packet.stream_index
                        if stream not in shifts:  # B-frames start a part below 0: never behind the last part
                            shifts[stream] = max(
                                round(offset_s / packet.time_base), last_dts.get(stream, -1) + 1 - packet.dts
                            )
                        shift = shifts[stream]
                        if packet.stream.type == "video" and packet.pts is not None:
                            end = (packet.pts + shift + (packet.duration or 0)) * packet.time_base
                            part_end_s = max(part_end_s, float(end))
                        packet.pts = None if packet.pts is None else packet.pts + shift
                        packet.dts += shift
                        last_dts[stream] = packet.dts
                        packet.stream = outputs[stream]
                        out.mux(packet)
                    offset_s = part_end_s
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


_KEPT = ("video", "audio")


# The sample rates AAC has (MPEG-4's table); sound at any other rate is resampled to 48 kHz.
_AAC_RATES = frozenset({96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350})
SOUND_SLACK_S = 0.04  # sound this far off its frame's time plays on (no click); further off is cut or padded
SOUND_PROBE_PACKETS = 64  # undecodable packets, none decoded yet, before a sound track counts as broken
_SILENCE_PIECE_S = 1.0  # silence is encoded in pieces this long: a long gap is never one big buffer
# Whatever copying the sound raises (FFmpeg's errors, a layout the resampler refuses, ...) loses the sound, never the
# video: it becomes a warning. Errors of the video itself still fail the writer.
_SOUND_ERRORS = (Exception,)


class _Unreadable(Exception):  # noqa: N818 - internal signal
    """The sound track cannot be decoded; the message says why."""


class _SoundTrack:
    """The source's first audio track, streamed as AAC into an output, on the written video's timeline.

    ``advance(until_s, offset_s)`` encodes the output's sound up to ``until_s``, putting source time
    ``t`` (seconds from the first video frame) at output time ``t + offset_s``. The offset comes from
    the frame just written, so strides, dropped frames and variable frame rates stay in sync. Sound
    before the first frame is cut, a late start or a hole becomes silence, nothing runs past the last
    frame written, and at most one decoded frame is held: memory is flat however long the recording.
    """

    def __init__(self, container: av.container.InputContainer, start_s: float) -> None:
        self._input = container
        self._in_stream = container.streams.audio[0]
        self.added = False  # True once the output has the AAC stream
        if self._in_stream.codec_context is None:
            raise _Unreadable("FFmpeg has no decoder for its codec")
        context = self._in_stream.codec_context
        self._rate = context.sample_rate if context.sample_rate in _AAC_RATES else 48000
        self._layout = "mono" if context.channels == 1 else "stereo"  # what every browser plays
        self._channels = 1 if self._layout == "mono" else 2
        self._time_base = Fraction(1, self._rate)
        self._start_s = start_s
        self._resampler = self._new_resampler()
        self._decoded = 0  # frames decoded so far
        self.bad_packets = 0
        self._source = self._samples()
        self._pending: np.ndarray | None = None  # decoded samples not yet encoded, channels x n float32
        self._pending_at = 0  # their place in the output, in samples
        self._written = 0  # samples handed to the encoder (silence included)
        self._output: av.container.OutputContainer | None = None
        self._stream: av.AudioStream | None = None
        self._stopped: str | None = None  # why the sound stops early
        try:
            first = next(self._source, None)  # decodes up to the first frame: a broken track shows now
        except _Unreadable:
            raise
        except _SOUND_ERRORS as error:
            raise _Unreadable(_reason(error)) from error
        if first is None:
            raise _Unreadable(f"none of its {self.bad_packets} packets decodes" if self.bad_packets else "")
        self._source = itertools.chain([first], self._source)

    @classmethod
    def open(cls, source: Path, start_s: float) -> tuple[_SoundTrack | None, str | None]:
        """The source's sound ready to copy, or None and why not (no reason when it simply has none)."""
        try:
            container = av.open(str(source), metadata_errors="ignore")
        except _SOUND_ERRORS as error:
            return None, _sound_lost(f"the file could not be opened for it ({_reason(error)})")
        if not container.streams.audio:
            container.close()
            return None, None
        try:
            return cls(container, start_s), None
        except _Unreadable as error:
            container.close()
            return None, _sound_lost(str(error)) if str(error) else None  # no reason: a track with no packets
        except _SOUND_ERRORS as error:
            container.close()
            return None, _sound_lost(_reason(error))
        except BaseException:
            container.close()
            raise

    def _new_resampler(self) -> av.AudioResampler:
        return av.AudioResampler(format="fltp", layout=self._layout, rate=self._rate)

    def _samples(self) -> Iterator[tuple[float | None, np.ndarray]]:
        """(source time from the first video frame or None, channels x n float32) for each decoded piece."""
        packets = self._input.demux(self._in_stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError:  # the file ends or breaks here: what came before is kept
                break
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                self.bad_packets += 1
                if not self._decoded and self.bad_packets >= SOUND_PROBE_PACKETS:
                    raise _Unreadable(f"its first {self.bad_packets} packets do not decode") from None
                continue
            for frame in frames:
                self._decoded += 1
                yield from self._resampled(frame)
        yield from self._resampled(None)

    def _resampled(self, frame: av.AudioFrame | None) -> Iterator[tuple[float | None, np.ndarray]]:
        try:
            pieces = self._resampler.resample(frame)
        except ValueError:  # the track changes rate or layout part-way: a resampler for the new one
            if frame is None:
                return
            self._resampler = self._new_resampler()
            pieces = self._resampler.resample(frame)
        for piece in pieces:
            if piece is None or not piece.samples:
                continue
            known = piece.pts is not None and piece.time_base is not None
            yield (float(piece.pts * piece.time_base) - self._start_s if known else None), piece.to_ndarray()

    def add_to(self, output: av.container.OutputContainer) -> None:
        try:
            stream = output.add_stream("aac", rate=self._rate)
            stream.codec_context.layout = self._layout
            stream.codec_context.bit_rate = 64_000 * self._channels
            # the fast coder without mid/side search: ~5x faster than FFmpeg's defaults, no loss audible in speech
            stream.codec_context.options = {"aac_coder": "fast", "aac_ms": "0"}
        except _SOUND_ERRORS as error:
            self._stop(f"no AAC stream could be added ({_reason(error)})")
            return
        self._output, self._stream, self.added = output, stream, True

    def advance(self, until_s: Fraction, offset_s: float) -> None:
        """Encode the output's sound up to ``until_s``, source time ``t`` going to output time ``t + offset_s``."""
        if self._stopped is not None or self._stream is None:
            return
        limit = round(until_s * self._rate)
        slack = round(SOUND_SLACK_S * self._rate)
        try:
            while self._written < limit:
                if self._pending is None:
                    item = next(self._source, None)
                    if item is None:  # the sound ends before the video
                        self._stopped = ""
                        return
                    time_s, samples = item
                    at = self._written if time_s is None else round((time_s + offset_s) * self._rate)
                    if abs(at - self._written) <= slack:
                        at = self._written  # play on: a click costs more than a few ms of drift
                    elif at < self._written:  # before the first frame, or behind the video: cut
                        samples, at = samples[:, self._written - at :], self._written
                        if not samples.shape[1]:
                            continue
                    self._pending, self._pending_at = samples, at
                if self._pending_at > self._written:  # starts late or skips: silence until it resumes
                    count = min(self._pending_at, limit, self._written + round(_SILENCE_PIECE_S * self._rate))
                    self._encode(np.zeros((self._channels, count - self._written), np.float32))
                    continue
                count = min(self._pending.shape[1], limit - self._written)
                self._encode(self._pending[:, :count])
                self._pending = self._pending[:, count:] if count < self._pending.shape[1] else None
                self._pending_at += count
        except _SOUND_ERRORS as error:
            self._stop(f"it stops at {self._written / self._rate:.0f} s ({_reason(error)})")

    def _encode(self, samples: np.ndarray) -> None:
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples), format="fltp", layout=self._layout)
        frame.sample_rate, frame.pts, frame.time_base = self._rate, self._written, self._time_base
        self._written += samples.shape[1]
        self._output.mux(self._stream.encode(frame))

    def _stop(self, why: str) -> None:
        self._stopped, self._pending = why, None

    def finish(self) -> None:
        """Flush the encoder (the sound already ends with the last frame)."""
        if self._stream is None or self._stopped:
            return
        try:
            self._output.mux(self._stream.encode(None))
        except _SOUND_ERRORS as error:
            self._stop(f"its end could not be written ({_reason(error)})")

    def close(self) -> None:
        self._source = iter(())
        with contextlib.suppress(*_SOUND_ERRORS):  # the input only: nothing of the output depends on it
            self._input.close()

    def warnings(self) -> list[str]:
        said = [_sound_lost(self._stopped)] if self._stopped else []
        if self.bad_packets:
            said.append(
                f"Parts of the recording's sound ({self.bad_packets} packets) could not be decoded: "
                "the annotated video is silent there."
            )
        return said


def _sound_lost(why: str) -> str:
    return f"The recording's sound could not be copied into the annotated video: {why}."


def _upright(image: np.ndarray, rotation: float) -> np.ndarray:
    """Apply the frame's display rotation (FFmpeg gives it counter-clockwise)."""
    turns = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)) if turns else image


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error).split(":")[-1].strip() or type(error).__name__
