"""LiveProcessor, the Live page's frame worker, driven with frames from a clip (no browser)."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
import pytest

from fer.engine.live import LiveProcessor
from fer.engine.video_io import VideoReader
from fer.labels import CLASSES
from fer.sessions.store import SessionStore


@pytest.fixture
def frames(face_clip: Path) -> list[np.ndarray]:
    with VideoReader(face_clip) as video:
        return [frame.image for frame in video.frames()]


@pytest.fixture
def processor(classifier) -> LiveProcessor:
    live = LiveProcessor(classifier)
    yield live
    live.close()


def test_frames_give_live_statistics(processor: LiveProcessor, frames: list[np.ndarray]) -> None:
    annotated = [processor.process(frame) for frame in frames[:8]]
    stats = processor.stats()
    assert stats.faces == 1 and sum(stats.shares.values()) == pytest.approx(1.0)
    assert 0 < stats.read_share <= 1  # of the last seconds' face time
    assert set(stats.trend["expression"]) == set(CLASSES) and not stats.trend.empty
    assert (stats.trend["time_s"] <= 0).all()  # seconds ago
    assert stats.processed_fps > 0 and not stats.paused
    assert not np.array_equal(annotated[-1], frames[7])  # boxes and labels drawn


def test_only_the_newest_waiting_frame_is_analysed(processor: LiveProcessor, frames: list[np.ndarray]) -> None:
    waiting = []
    for pts, image in enumerate(frames[:3]):
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = pts
        waiting.append(frame)
    out = processor.process_newest(waiting)
    assert out.pts == 2 and (out.height, out.width) == frames[0].shape[:2]
    assert processor.stats().dropped_frames == 2


def test_pause_passes_frames_through_and_reset_clears(processor: LiveProcessor, frames: list[np.ndarray]) -> None:
    for frame in frames[:4]:
        processor.process(frame)
    processor.paused = True
    assert np.array_equal(processor.process(frames[5]), frames[5])
    assert processor.stats().paused
    processor.paused = False
    processor.reset()
    stats = processor.stats()
    assert stats.faces == 0 and stats.trend.empty and processor.snapshot() is None
    assert stats.read_share is None and sum(stats.shares.values()) == 0


def test_snapshot_can_blur_the_faces(processor: LiveProcessor, frames: list[np.ndarray]) -> None:
    assert processor.snapshot() is None
    for frame in frames[:4]:
        processor.process(frame)
    plain, blurred = processor.snapshot(blur=False), processor.snapshot(blur=True)
    x1, y1, x2, y2 = processor.analyzer.detector.detect(frames[3]).xyxy[0].astype(int)
    face_region = (slice(y1 + 5, y2 - 5), slice(x1 + 5, x2 - 5))
    assert np.std(blurred[face_region].astype(float)) < 0.7 * np.std(plain[face_region].astype(float))


def test_stopping_saves_numbers_only_as_a_live_session(classifier, frames: list[np.ndarray], tmp_path: Path) -> None:
    store = SessionStore(f"sqlite:///{tmp_path / 's.db'}")
    processor = LiveProcessor(classifier, store=store, rows_dir=tmp_path / "live")
    assert processor.save() is None
    processor.session_name = "Tuesday call"
    processor.owner = "alice@school.org"
    for frame in frames[:10]:
        processor.process(frame)
    (waiting,) = (tmp_path / "live").iterdir()  # the rows wait in the data folder, not the system temp folder
    session_id = processor.save()
    assert processor.save() == session_id and len(store.list()) == 1  # saved once
    assert waiting.stat().st_size == 0  # once stored, no row stays on disk
    processor.close()
    assert not waiting.exists()
    stored = store.get(session_id)
    assert (stored.name, stored.source, stored.tracks, stored.frames_analysed) == ("Tuesday call", "live", 1, 10)
    assert stored.owner == "alice@school.org" and store.list(owner="bob@school.org") == []
    rows = store.face_rows(session_id)
    assert len(rows) == 9 and rows["track_id"].nunique() == 1  # the track gets its id at its second frame
    assert not store.timeline(session_id).empty


def test_a_stream_that_goes_quiet_is_saved_and_later_frames_start_a_new_session(
    classifier, frames: list[np.ndarray], tmp_path: Path
) -> None:
    """The tab closed or the camera vanished: nobody presses stop, the numbers must still be kept."""
    store = SessionStore(f"sqlite:///{tmp_path / 's.db'}")
    processor = LiveProcessor(classifier, store=store, idle_save_s=0.5)
    processor.session_name = "Dropped call"
    for frame in frames[:6]:
        processor.process(frame)
    assert processor.save_if_idle() is None  # frames are still coming
    assert processor.stats().streaming
    deadline = time.monotonic() + 10
    while not store.list() and time.monotonic() < deadline:
        time.sleep(0.1)  # the idle watch saves on its own
    (saved,) = store.list()
    assert (saved.name, saved.frames_analysed) == ("Dropped call", 6)
    assert not processor.stats().streaming  # the panel's clock stops with the stream

    for frame in frames[6:9]:  # the camera comes back
        processor.process(frame)
    assert processor.stats().seconds < 5 and processor.save() != saved.id
    assert sorted(s.frames_analysed for s in store.list()) == [3, 6]
    processor.close()


def test_without_a_store_saving_is_refused(processor: LiveProcessor) -> None:
    with pytest.raises(RuntimeError, match="without a store"):
        processor.save()
