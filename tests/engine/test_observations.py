"""Live's browser mode on the server: the numbers a browser sends, checked as hostile input, and analysed by the same
engine as frames (tracking, readability, smoothing, saving)."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pytest

from fer.engine.detection import CenterFaceDetector
from fer.engine.live import LiveProcessor
from fer.engine.observations import (
    FACE_FIELDS,
    MAX_FACES,
    MAX_FRAMES,
    ObservationError,
    observe,
    parse_batch,
    refused_until,
)
from fer.engine.video_io import VideoReader
from fer.sessions.store import SessionStore

KEY = "k3y"


@pytest.fixture(scope="module")
def frames(face_clip: Path) -> list[np.ndarray]:
    with VideoReader(face_clip) as video:
        return [frame.image for frame in video.frames()]


@pytest.fixture(scope="module")
def observed(frames: list[np.ndarray], classifier) -> list[dict]:
    """The clip's frames as a browser would send them (computed by the server's own code), 10 frames a second."""
    detector = CenterFaceDetector()
    height, width = frames[0].shape[:2]
    return [
        {"t": i / 10, "w": width, "h": height, "faces": observe(frame, detector, classifier)}
        for i, frame in enumerate(frames)
    ]


def batch(frames: list[dict], seq: int = 0, ended: bool = False, key: str = KEY) -> dict:
    return {"key": key, "seq": seq, "frames": copy.deepcopy(frames), "ended": ended}


def test_a_good_batch_is_parsed_into_detections_and_crop_signals(observed: list[dict]) -> None:
    parsed = parse_batch(batch(observed[:5], seq=3, ended=True), KEY)
    assert (parsed.seq, parsed.ended, len(parsed.frames)) == (3, True, 5)
    frame = parsed.frames[0]
    assert len(frame.detections) == 1 and frame.signals.shape == (1, 3)
    assert frame.detections.probs.sum() == pytest.approx(1, abs=1e-3)
    assert np.isfinite(frame.detections.landmarks).all()


def _spoil(observed: list[dict], where: str, value: object) -> dict:
    message = batch(observed[:3])
    row = message["frames"][1]["faces"][0]
    if where == "box":
        row[2] = value
    elif where == "prob":
        row[18] = value
    elif where == "signal":
        row[15] = value
    elif where == "row":
        message["frames"][1]["faces"][0] = value
    elif where == "t":
        message["frames"][1]["t"] = value
    elif where == "w":
        message["frames"][1]["w"] = value
    else:
        message[where] = value
    return message


@pytest.mark.parametrize(
    ("where", "value", "why"),
    [
        ("box", float("nan"), "finite"),
        ("box", 1e6, "inside its frame"),
        ("box", -5.0, "inside its frame"),
        ("prob", 0.9, "sum to 1"),
        ("prob", -0.1, "between 0 and 1"),
        ("signal", 300.0, "out of range"),
        ("row", [1.0] * (FACE_FIELDS - 1), "list of 25 finite numbers"),
        ("row", ["1"] * FACE_FIELDS, "list of 25 finite numbers"),
        ("row", [True] * FACE_FIELDS, "list of 25 finite numbers"),
        ("t", 0.0, "increase"),
        ("t", float("inf"), "seconds"),
        ("w", 100_000, "px a side"),
        ("key", "another session's key", "another live session"),
        ("seq", -1, "counter"),
        ("ended", "yes", "counter"),
        ("owner", "bob@school.org", "exactly the fields"),
        ("frames", "everything", "list of at most"),
    ],
)
def test_malformed_or_hostile_batches_are_rejected_with_the_reason(
    observed: list[dict], where: str, value: object, why: str
) -> None:
    with pytest.raises(ObservationError, match=why):
        parse_batch(_spoil(observed, where, value), KEY)


def test_a_refused_batch_is_confirmed_up_to_its_newest_frame_so_it_is_not_sent_again(observed: list[dict]) -> None:
    spoiled = _spoil(observed, "box", 1e6)
    assert refused_until(spoiled) == pytest.approx(observed[2]["t"])
    assert refused_until(_spoil(observed, "t", float("inf"))) == pytest.approx(observed[2]["t"])
    assert refused_until({"frames": [{"t": "soon"}]}) is None
    assert refused_until("garbage") is None and refused_until({"frames": []}) is None


def test_huge_batches_are_rejected(observed: list[dict]) -> None:
    frame = observed[0]
    too_many_frames = [dict(frame, t=i / 30) for i in range(MAX_FRAMES + 1)]
    with pytest.raises(ObservationError, match="at most 90 frames"):
        parse_batch(batch(too_many_frames), KEY)
    with pytest.raises(ObservationError, match="at most 64 faces"):
        parse_batch(batch([dict(frame, faces=frame["faces"] * (MAX_FACES + 1))]), KEY)
    with pytest.raises(ObservationError, match="at most 10 s"):
        parse_batch(batch([dict(frame, t=0.0), dict(frame, t=11.0)]), KEY)
    with pytest.raises(ObservationError, match="an object"):
        parse_batch([observed], KEY)


def test_observed_frames_are_analysed_like_frames(classifier, frames: list[np.ndarray], observed: list[dict]) -> None:
    """The same clip through the image path (server mode, detection every frame) and as a browser's numbers: the
    same track, readings and readable share."""
    by_image = LiveProcessor(classifier)
    by_numbers = LiveProcessor(classifier)
    try:
        image_faces = []
        for frame in frames:
            by_image.process(frame)
            image_faces.append(by_image._latest_faces)
        by_numbers.process_observed(parse_batch(batch(observed), KEY))
        numbers_stats, image_stats = by_numbers.stats(), by_image.stats()
        assert numbers_stats.faces == image_stats.faces == 1
        assert numbers_stats.read_share == pytest.approx(image_stats.read_share)
        assert numbers_stats.shares == pytest.approx(image_stats.shares, abs=0.02)
        last = by_numbers._latest_faces
        assert last.track_id.tolist() == image_faces[-1].track_id.tolist() == [1]
        np.testing.assert_allclose(last.probs, image_faces[-1].probs, atol=0.02)
        assert 8 <= numbers_stats.processed_fps <= 12  # the browser's 10 frames a second, not the arrival rate
    finally:
        by_image.close()
        by_numbers.close()


def test_a_browser_session_is_saved_like_any_live_session(classifier, observed: list[dict], tmp_path: Path) -> None:
    store = SessionStore(f"sqlite:///{tmp_path / 's.db'}")
    processor = LiveProcessor(classifier, store=store, rows_dir=tmp_path / "live")
    processor.session_name = "Browser call"
    processor.owner = "alice@school.org"
    try:
        processor.process_observed(parse_batch(batch(observed[:10]), KEY))
        processor.process_observed(parse_batch(batch(observed[:10], seq=1), KEY))  # the same frames again: skipped
        time.sleep(1.1)  # the next second of the stream arrives a second later: frames are never placed after now
        processor.process_observed(parse_batch(batch(observed[10:], seq=2), KEY))
        session_id = processor.save()
    finally:
        processor.close()
    stored = store.get(session_id)
    assert (stored.name, stored.source, stored.owner) == ("Browser call", "live", "alice@school.org")
    assert stored.frames_analysed == len(observed) and stored.tracks == 1
    rows = store.face_rows(session_id)
    assert len(rows) == len(observed) - 1 and rows["time_s"].is_monotonic_increasing
    assert not store.timeline(session_id).empty


def test_a_browser_clock_ahead_of_the_server_cannot_place_frames_in_the_future(
    classifier, observed: list[dict]
) -> None:
    processor = LiveProcessor(classifier)
    try:
        processor.process_observed(parse_batch(batch(observed[:2]), KEY))
        jumped = [dict(frame, t=frame["t"] + 1e6) for frame in observed[2:6]]  # a clock set forward, or a lie
        processor.process_observed(parse_batch(batch(jumped, seq=1), KEY))
        assert processor._last_time <= processor.stats().seconds  # set again on the session's clock: none after now
        early = [dict(frame, t=frame["t"] + 1e6 + 2.5) for frame in observed[6:8]]  # within the re-anchoring span
        processor.process_observed(parse_batch(batch(early, seq=2), KEY))
        assert processor._last_time <= processor.stats().seconds + 1.0  # at most EARLY_S after now
    finally:
        processor.close()


def test_frames_sent_again_are_analysed_once(classifier, observed: list[dict]) -> None:
    processor = LiveProcessor(classifier)
    try:
        for seq in range(3):  # the component resends frames until the page confirms them
            processor.process_observed(parse_batch(batch(observed[:8], seq=seq), KEY))
        assert processor._frames == 8
    finally:
        processor.close()
