from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from fer.engine.video_io import H264Writer, VideoError, VideoReader

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
