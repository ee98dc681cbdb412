"""Short generated clips with a sound track, and ways to read the sound back (for the annotated video's sound)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

TONE_HZ = 440.0


def write_clip_with_sound(
    path: Path,
    seconds: float = 2.0,
    fps: float = 25.0,
    rate: int = 44100,
    layout: str = "mono",
    codec: str = "aac",
    sound_from_s: float = 0.0,
    sound_until_s: float | None = None,
    tone: tuple[float, float] | None = None,
    size: tuple[int, int] = (64, 48),
) -> Path:
    """A clip whose frames get brighter each frame, with a 440 Hz sine from ``sound_from_s`` to ``sound_until_s``
    (default: the last frame's end; only within ``tone`` when given, silent elsewhere). The container follows the
    suffix (.mp4, .mkv)."""
    width, height = size
    options = {"movflags": "+faststart"} if path.suffix == ".mp4" else {}  # index first: a cut copy still opens
    with av.open(str(path), "w", options=options) as out:
        video = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = out.add_stream(codec, rate=rate)
        sound.codec_context.layout = layout
        channels, sample_format = sound.codec_context.channels, sound.codec_context.format
        first, last = round(sound_from_s * rate), round((seconds if sound_until_s is None else sound_until_s) * rate)
        written = first
        frames = round(seconds * fps)
        for index in range(frames + 1):  # the last round: the sound that runs on past the frames, if any
            if index < frames:
                image = np.full((height, width, 3), index * 10 % 256, np.uint8)
                out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
            until = min(round((index + 1) / fps * rate), last) if index < frames else last
            if until <= written:
                continue
            times = np.arange(written, until) / rate
            wave = (0.5 * np.sin(2 * np.pi * TONE_HZ * times)).astype(np.float32)
            if tone is not None:
                wave[(times < tone[0]) | (times >= tone[1])] = 0.0
            planes = np.tile(wave, (channels, 1))
            if sample_format.name == "s16":  # packed integers, channels interleaved
                planes = (planes * 32767).astype(np.int16).T.reshape(1, -1).copy()
            frame = av.AudioFrame.from_ndarray(planes, format=sample_format.name, layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, written, Fraction(1, rate)
            out.mux(sound.encode(frame))
            written = until
        out.mux(video.encode(None))
        out.mux(sound.encode(None))
    return path


def garble_sound(path: Path, out: Path, packets: slice = slice(None)) -> Path:
    """A copy of ``path`` whose audio packets in ``packets`` are overwritten with random bytes (a damaged track)."""
    with av.open(str(path)) as container:
        places = [(p.pos, p.size) for p in container.demux(audio=0) if p.size]
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for pos, size in places[packets]:
        data[pos : pos + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    out.write_bytes(bytes(data))
    return out


@dataclass(frozen=True)
class Sound:
    codec: str
    rate: int
    layout: str
    duration_s: float  # as the container says
    samples: np.ndarray  # decoded, channels x n float

    def loud_span_s(self, level: float = 0.1) -> tuple[float, float]:
        """First and last time the sound is louder than ``level``."""
        loud = np.flatnonzero(np.abs(self.samples[0]) > level)
        return loud[0] / self.rate, loud[-1] / self.rate


def read_sound(path: Path) -> Sound | None:
    """The first audio stream of ``path``, decoded; None when it has none."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        samples = np.concatenate([frame.to_ndarray() for frame in container.decode(stream)], axis=1)
        duration_s = float(stream.duration * stream.time_base)
        return Sound(stream.codec_context.name, stream.rate, stream.layout.name, duration_s, samples)
