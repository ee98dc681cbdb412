import itertools
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from fer.engine.video_io import H264Writer, VideoError, VideoReader
from tests.conftest import CHROMIUM
from tests.engine.sound_clips import garble_sound, read_sound, write_clip_with_sound

BLUE, RED = (255, 0, 0), (0, 0, 255)  # BGR


def _frame(height: int = 49, width: int = 65) -> np.ndarray:
    """Left half blue, right half red: colour order and orientation both show after a round trip."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = BLUE
    image[:, width // 2 :] = RED
    return image


def _write_clip(path: Path, frames: int = 12, fps: float = 25.0, noise: bool = False) -> Path:
    rng = np.random.default_rng(0)
    with H264Writer(path, fps=fps) as writer:
        for _ in range(frames):
            writer.write(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) if noise else _frame())
    return path


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return _write_clip(tmp_path / "clip.mp4")


def test_writer_crops_to_even_sides_and_reader_reports_the_clip(clip: Path) -> None:
    with VideoReader(clip) as video:
        info = video.info
        frames = list(video.frames())
    assert (info.width, info.height, info.codec, info.rotation) == (64, 48, "h264", 0)
    assert info.fps == pytest.approx(25.0)
    assert info.frame_count == 12 and info.duration_s == pytest.approx(12 / 25, abs=0.05)
    assert [f.index for f in frames] == list(range(12))
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)
    assert video.corrupt_frames == 0


def test_round_trip_keeps_colours_and_orientation(clip: Path) -> None:
    with VideoReader(clip) as video:
        image = next(video.frames()).image.astype(int)
    np.testing.assert_allclose(image[10:40, 4:28].mean(axis=(0, 1)), BLUE, atol=12)
    np.testing.assert_allclose(image[10:40, 36:60].mean(axis=(0, 1)), RED, atol=12)


@pytest.mark.parametrize("fps", [25.0, 29.97, 10.0])
def test_timestamps_increase_with_the_frame_rate(tmp_path: Path, fps: float) -> None:
    with VideoReader(_write_clip(tmp_path / "clip.mp4", frames=8, fps=fps)) as video:
        times = np.array([f.time_s for f in video.frames()])
    assert times[0] == 0.0 and np.all(np.diff(times) > 0)
    np.testing.assert_allclose(times, np.arange(8) / fps, atol=1e-3)


@pytest.mark.parametrize("every", [1, 3, 5])
def test_every_nth_frame(clip: Path, every: int) -> None:
    with VideoReader(clip) as video:
        frames = list(video.frames(every=every))
    assert [f.index for f in frames] == list(range(0, 12, every))
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(0, 12, every) / 25, atol=1e-3)


def test_every_must_be_positive(clip: Path) -> None:
    with VideoReader(clip) as video, pytest.raises(ValueError, match="every"):
        next(video.frames(every=0))


def test_frames_can_be_iterated_only_once(clip: Path) -> None:
    with VideoReader(clip) as video:
        assert len(list(video.frames())) == 12
        with pytest.raises(RuntimeError, match="once"):
            next(video.frames())


def test_output_appears_only_when_the_writer_closes(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "out.mp4"
    with H264Writer(path, fps=25) as writer:
        writer.write(_frame())
        assert not path.exists()
    assert path.is_file() and not writer.partial.exists()
    assert writer.frames_written == 1


def test_an_exception_inside_the_writer_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError, match="boom"), H264Writer(path, fps=25) as writer:
        writer.write(_frame())
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_a_writer_given_no_frames_leaves_no_file(tmp_path: Path) -> None:
    with H264Writer(tmp_path / "out.mp4", fps=25):
        pass
    assert list(tmp_path.iterdir()) == []


def test_a_frame_too_small_to_encode_is_rejected_and_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="too small"), H264Writer(tmp_path / "out.mp4", fps=25) as writer:
        writer.write(np.zeros((1, 64, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_rotated_video_is_returned_upright(tmp_path: Path) -> None:
    path = tmp_path / "phone.mp4"
    stored = np.zeros((32, 64, 3), np.uint8)
    stored[:8, :16] = 255  # white block in the stored frame's top-left corner
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(90)  # counter-clockwise
        for _ in range(5):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(stored, format="bgr24")))
        container.mux(stream.encode(None))
    with VideoReader(path) as video:
        info = video.info
        image = next(video.frames()).image
    assert (info.width, info.height, info.rotation) == (32, 64, 90)
    assert image.shape == (64, 32, 3)
    expected = np.rot90(stored)  # counter-clockwise: the block ends up bottom-left
    assert np.abs(image.astype(int) - expected).mean() < 10
    assert image[60, 3].min() > 200 and image[3, 3].max() < 50


def _audio_only(path: Path) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        for i in range(5):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda path, clip: None, "no such file"),
        (lambda path, clip: path.write_bytes(b""), "empty"),
        (lambda path, clip: path.write_text("not a video\n" * 50), "not a video file"),
        (lambda path, clip: path.write_bytes(clip.read_bytes()[:2048]), "no decodable video frames"),
        (lambda path, clip: _audio_only(path), "no video stream"),
    ],
    ids=["missing", "empty", "text", "truncated", "audio-only"],
)
def test_bad_inputs_raise_video_error_naming_the_file(tmp_path: Path, make, message: str) -> None:
    clip = _write_clip(tmp_path / "good.mp4", frames=10, noise=True)
    assert clip.stat().st_size > 20_000  # so its first 2 KB miss most of it
    path = tmp_path / "bad.mp4"
    make(path, clip)
    with pytest.raises(VideoError, match=message) as error:
        VideoReader(path)
    assert "bad.mp4" in str(error.value) and "\n" not in str(error.value)


def test_a_directory_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="no such file"):
        VideoReader(tmp_path)


def test_video_error_is_a_value_error() -> None:
    assert issubclass(VideoError, ValueError)


def test_written_clip_is_readable_by_opencv_too(clip: Path) -> None:
    capture = cv2.VideoCapture(str(clip))
    try:
        ok, image = capture.read()
    finally:
        capture.release()
    assert ok and image.shape == (48, 64, 3)


def _annotate_like_analysis(source: Path, out: Path, every: int = 1, frames: int | None = None) -> H264Writer:
    """Copy ``source``'s frames (every ``every``-th, the first ``frames`` of those) as the analysis writes them."""
    with (
        VideoReader(source) as video,
        H264Writer(out, video.info.fps / every, sound_from=source, sound_start_s=video.start_s) as writer,
    ):
        for count, frame in enumerate(video.frames(every)):
            if frames is not None and count == frames:
                break
            writer.write(frame.image, frame.time_s)
    return writer


def _frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize(
    ("name", "rate", "layout", "codec", "expected"),
    [
        ("aac.mp4", 44100, "mono", "aac", (44100, "mono")),
        ("pcm.mkv", 37800, "2.1", "pcm_s16le", (48000, "stereo")),  # a rate AAC lacks, 3 channels: resampled
    ],
)
def test_the_sound_is_copied_as_aac_as_long_as_the_video(
    tmp_path: Path, name: str, rate: int, layout: str, codec: str, expected: tuple[int, str]
) -> None:
    source = write_clip_with_sound(tmp_path / name, seconds=2.0, rate=rate, layout=layout, codec=codec)
    writer = _annotate_like_analysis(source, tmp_path / "out.mp4")
    assert writer.has_sound and writer.sound_warnings == []
    sound = read_sound(tmp_path / "out.mp4")
    assert (sound.codec, sound.rate, sound.layout) == ("aac", *expected)
    assert sound.duration_s == pytest.approx(2.0, abs=0.2)
    assert sound.samples.shape[1] / sound.rate == pytest.approx(2.0, abs=0.2)
    assert np.sqrt(np.mean(sound.samples**2)) > 0.2  # the tone, not silence (a 0.5 sine has 0.35)
    assert _frame_count(tmp_path / "out.mp4") == 50


def test_the_sound_is_interleaved_with_the_video_for_browsers(tmp_path: Path) -> None:
    source = write_clip_with_sound(tmp_path / "clip.mp4", seconds=3.0)
    _annotate_like_analysis(source, tmp_path / "out.mp4")
    data = (tmp_path / "out.mp4").read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
    with av.open(str(tmp_path / "out.mp4")) as container:
        packets = sorted((p.pos, p.stream.type, float(p.dts * p.time_base)) for p in container.demux() if p.size)
    latest: dict[str, float] = {}
    for _, kind, time_s in packets:  # in file order, neither stream runs ahead of the other
        latest[kind] = time_s
        if len(latest) == 2:
            assert abs(latest["video"] - latest["audio"]) < 0.5
    assert latest["video"] > 2.5 and latest["audio"] > 2.5


def test_sound_starting_late_keeps_its_time_with_a_stride(tmp_path: Path) -> None:
    """The sound starts 0.5 s after the first frame and beeps from 1.0 to 1.5 s: so does the copy, every 2nd
    frame written."""
    source = write_clip_with_sound(tmp_path / "clip.mp4", seconds=3.0, sound_from_s=0.5, tone=(1.0, 1.5))
    _annotate_like_analysis(source, tmp_path / "out.mp4", every=2)
    sound = read_sound(tmp_path / "out.mp4")
    start, end = sound.loud_span_s()
    assert start == pytest.approx(1.0, abs=0.03) and end == pytest.approx(1.5, abs=0.03)
    assert sound.duration_s == pytest.approx(3.0, abs=0.1)


def test_the_sound_stops_with_the_last_frame_written(tmp_path: Path) -> None:
    source = write_clip_with_sound(tmp_path / "clip.mp4", seconds=4.0)
    _annotate_like_analysis(source, tmp_path / "out.mp4", every=3, frames=10)  # 10 frames of 0.12 s: 1.2 s
    sound = read_sound(tmp_path / "out.mp4")
    assert sound.duration_s == pytest.approx(1.2, abs=0.05)
    assert sound.samples.shape[1] / sound.rate < 1.3
    assert sound.loud_span_s()[1] == pytest.approx(1.2, abs=0.05)


def test_frames_from_a_clip_without_sound_give_a_video_without_sound_and_no_warning(clip: Path, tmp_path: Path) -> None:
    writer = _annotate_like_analysis(clip, tmp_path / "out.mp4")
    assert not writer.has_sound and writer.sound_warnings == []
    assert read_sound(tmp_path / "out.mp4") is None and _frame_count(tmp_path / "out.mp4") == 12


def test_a_sound_track_that_does_not_decode_gives_the_video_and_a_warning(tmp_path: Path) -> None:
    source = garble_sound(write_clip_with_sound(tmp_path / "clip.mp4"), tmp_path / "broken.mp4")
    writer = _annotate_like_analysis(source, tmp_path / "out.mp4")
    assert not writer.has_sound and read_sound(tmp_path / "out.mp4") is None
    assert _frame_count(tmp_path / "out.mp4") == 50
    [warning] = writer.sound_warnings
    assert warning.startswith("The recording's sound could not be copied into the annotated video")


def test_a_damaged_stretch_of_sound_is_silent_and_flagged(tmp_path: Path) -> None:
    source = garble_sound(write_clip_with_sound(tmp_path / "clip.mp4"), tmp_path / "damaged.mp4", slice(30, 40))
    writer = _annotate_like_analysis(source, tmp_path / "out.mp4")
    sound = read_sound(tmp_path / "out.mp4")
    assert writer.has_sound and sound.duration_s == pytest.approx(2.0, abs=0.1)
    assert any("could not be decoded" in warning for warning in writer.sound_warnings)
    start, end = 30 * 1024 / 44100, 40 * 1024 / 44100  # the damaged packets' span
    assert np.abs(sound.samples[0, round((start + 0.05) * 44100) : round((end - 0.05) * 44100)]).max() < 0.05
    assert np.abs(sound.samples[0, round((end + 0.1) * 44100) :]).max() > 0.3  # and the tone back after it


@pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}")
def test_chromium_plays_the_sound(playwright, tmp_path: Path) -> None:
    source = write_clip_with_sound(tmp_path / "clip.mp4", seconds=3.0, size=(320, 240))
    _annotate_like_analysis(source, tmp_path / "out.mp4")
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
    )
    try:
        page = browser.new_page()
        page.goto((tmp_path / "out.mp4").as_uri())  # Chromium's own player page: one <video>
        played = page.evaluate(
            """async () => {
                const video = document.querySelector('video');
                video.muted = true;
                if (video.readyState < 1) await new Promise((ok, fail) => {
                    video.onloadedmetadata = ok;
                    video.onerror = () => fail(new Error(video.error && video.error.message));
                });
                await video.play();
                await new Promise(ok => setTimeout(ok, 1000));
                return {duration: video.duration, time: video.currentTime,
                        sound: video.webkitAudioDecodedByteCount, error: video.error && video.error.message};
            }"""
        )
    finally:
        browser.close()
    assert played["error"] is None and played["duration"] == pytest.approx(3.0, abs=0.1)
    assert played["time"] > 0.3 and played["sound"] > 0


def test_a_rate_picks_the_first_frame_at_or_after_each_slot_and_segments_pick_the_same() -> None:
    from fer.engine.video_io import FramePicker

    times = [i / 30 for i in range(90)]  # 3 s at 30 fps
    picker = FramePicker(rate=8.0, fps=30.0)
    picked = [t for i, t in enumerate(times) if picker.takes(i, t)]
    assert len(picked) == 24 and picked[0] == 0.0
    assert all(0.099 <= b - a <= 0.134 for a, b in itertools.pairwise(picked))  # 1/8 s, on 1/30 s frames
    later = FramePicker(rate=8.0, fps=30.0, from_s=1.5)  # a segment starting part-way picks from the same grid
    assert [t for i, t in enumerate(times) if t >= 1.5 and later.takes(i, t)] == [t for t in picked if t >= 1.5]
    assert sum(FramePicker(rate=60.0, fps=30.0).takes(i, t) for i, t in enumerate(times)) == 90  # above: all
    assert [i for i in range(9) if FramePicker(every=3).takes(i, 0.0)] == [0, 3, 6]


def test_browsers_play_h264_in_mp4_but_not_other_codecs_or_containers(tmp_path: Path) -> None:
    from fer.engine.video_io import browser_playable

    def clip(name: str, codec: str, pix_fmt: str = "yuv420p") -> Path:
        path = tmp_path / name
        with av.open(str(path), "w") as container:
            stream = container.add_stream(codec, rate=10)
            stream.width, stream.height, stream.pix_fmt = 64, 48, pix_fmt
            for _ in range(3):
                container.mux(stream.encode(av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), "bgr24")))
            container.mux(stream.encode(None))
        return path

    assert browser_playable(clip("lesson.mp4", "libx264"))
    assert not browser_playable(clip("lesson.avi", "mpeg4"))  # MPEG-4 Part 2 in AVI: an annotated copy is made
    assert not browser_playable(clip("lesson.mkv", "libx264"))  # Matroska is WebM's only with VP8/VP9/AV1
    assert not browser_playable(clip("ten_bit.mp4", "libx264", "yuv420p10le"))
    assert not browser_playable(tmp_path / "missing.mp4")


def test_skipping_unreferenced_frames_decodes_fewer_and_keeps_their_times(tmp_path: Path) -> None:
    from fer.engine.video_io import FramePicker

    path = tmp_path / "b_frames.mp4"
    with av.open(str(path), "w") as container:  # x264's defaults: B-frames, as phones and recorders write
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for i in range(90):
            image = np.full((96, 160, 3), (i * 7) % 255, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")))
        container.mux(stream.encode(None))
    with VideoReader(path) as video:
        every = [f.time_s for f in video.frames()]
    with VideoReader(path) as video:
        video.skip_unreferenced_frames()
        decoded = [f.time_s for f in video.frames()]
    assert len(every) == 90 and 0 < len(decoded) < 60  # B-frames were not decoded at all
    assert set(np.round(decoded, 3)) <= set(np.round(every, 3))  # the rest keep their own timestamps
    picker = FramePicker(rate=8.0, fps=30.0)
    picked = [t for i, t in enumerate(decoded) if picker.takes(i, t)]
    assert 20 <= len(picked) <= 24 and max(np.diff(picked)) < 0.2  # about 8 a second still
