"""From an upload to a stored session (fer.sessions.workflow): streamed copy with its hash, all-or-nothing analysis."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from fer.engine.analyze import AnalysisCancelled, Progress
from fer.engine.outputs import DETECTIONS_CSV
from fer.engine.pipeline import AnalysisSettings
from fer.engine.video_io import VideoError
from fer.sessions.store import SessionStore
from fer.sessions.workflow import SaveFailedError, analyse_and_store, analysis_claim, save_upload


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SessionStore]:
    session_store = SessionStore(f"sqlite:///{tmp_path}/s.db")
    yield session_store
    session_store.engine.dispose()


class _BrokenStream(io.BytesIO):
    """Gives its first chunk, then fails like a dropped connection."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise ConnectionResetError("upload interrupted")
        return super().read(size)


def test_an_upload_is_saved_under_its_hash(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10_000  # 2.5 MB: more than one chunk
    uploads = tmp_path / "uploads"
    path, sha256 = save_upload(io.BytesIO(data), "Lesson 3.MP4", uploads)
    assert sha256 == hashlib.sha256(data).hexdigest()
    assert path == uploads / f"{sha256}.mp4"
    assert path.read_bytes() == data
    assert [p.name for p in uploads.iterdir()] == [path.name]  # no .partial file left


def test_an_interrupted_upload_leaves_nothing(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    stream = _BrokenStream(b"x" * (3 << 20))
    with pytest.raises(ConnectionResetError, match="interrupted"):
        save_upload(stream, "lesson.mp4", uploads)
    assert stream.reads == 2  # it failed mid-way, after writing a chunk
    assert list(uploads.iterdir()) == []


def _analyse(video: Path, store: SessionStore, data_folder: Path, classifier, **extra: object) -> tuple:
    return analyse_and_store(
        video,
        name="Tuesday history",
        store=store,
        data_folder=data_folder,
        settings=AnalysisSettings(),
        classifier=classifier,
        **extra,
    )


def test_a_clip_is_analysed_and_stored(face_clip: Path, classifier, store: SessionStore, tmp_path: Path) -> None:
    session_id, result = _analyse(
        face_clip, store, tmp_path, classifier, source_name="face.mp4", source_sha256="cd" * 32
    )
    assert [s.id for s in store.list()] == [session_id]
    stored = store.get(session_id)
    assert (stored.name, stored.source, stored.source_name) == ("Tuesday history", "upload", "face.mp4")
    assert store.find_by_hash("cd" * 32).id == session_id
    artifacts = stored.artifacts(tmp_path)
    assert artifacts.parent == tmp_path / "sessions" and (artifacts / DETECTIONS_CSV).is_file()
    assert not Path(stored.artifacts_dir).is_absolute()  # stored relative: a moved data folder keeps working
    detections = pd.read_csv(artifacts / DETECTIONS_CSV)
    assert len(detections) > 0
    assert len(store.face_rows(session_id)) == len(detections)
    assert len(store.timeline(session_id)) == len(result.timeline) and stored.frames_analysed == result.frames_analysed


def _cancel(progress: Progress) -> None:
    if progress.frames_analysed >= 5:
        raise AnalysisCancelled


def _not_a_video(tmp_path: Path, face_clip: Path) -> tuple[Path, dict, type[BaseException]]:
    path = tmp_path / "notes.mp4"
    path.write_text("these are lesson notes, not a video")
    return path, {}, VideoError


def _cancelled(tmp_path: Path, face_clip: Path) -> tuple[Path, dict, type[BaseException]]:
    return face_clip, {"on_progress": _cancel}, AnalysisCancelled


@pytest.mark.parametrize("failure", [_not_a_video, _cancelled], ids=["not-a-video", "cancelled"])
def test_a_failed_analysis_leaves_no_folder_and_no_session(
    failure, face_clip: Path, classifier, store: SessionStore, tmp_path: Path
) -> None:
    video, extra, error = failure(tmp_path, face_clip)
    sessions_dir = tmp_path / "sessions"
    with pytest.raises(error):
        _analyse(video, store, tmp_path, classifier, **extra)
    assert not sessions_dir.exists() or list(sessions_dir.iterdir()) == []
    assert store.list() == []


def test_a_failure_while_storing_keeps_the_analysis_so_it_can_be_stored_again(
    face_clip: Path, classifier, store: SessionStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that is busy or unreachable when an hour of analysis finishes must not lose that hour."""
    real_save = store.save

    def busy(**_: object) -> int:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(store, "save", busy)
    with pytest.raises(SaveFailedError, match="database is locked") as failed:
        _analyse(face_clip, store, tmp_path, classifier, source_sha256="ef" * 32)
    unsaved = failed.value.unsaved
    assert (unsaved.artifacts / DETECTIONS_CSV).is_file() and store.list() == []  # kept, and nothing half-stored
    monkeypatch.setattr(store, "save", real_save)  # the database is back
    session_id = unsaved.store_in(store)
    stored = store.get(session_id)
    assert stored.name == "Tuesday history" and stored.source_sha256 == "ef" * 32
    assert stored.artifacts(tmp_path) == unsaved.artifacts and len(store.face_rows(session_id)) > 0


def test_a_name_the_store_refuses_leaves_no_folder(
    face_clip: Path, classifier, store: SessionStore, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="at most 200 characters"):
        analyse_and_store(
            face_clip,
            name="x" * 300,
            store=store,
            data_folder=tmp_path,
            settings=AnalysisSettings(),
            classifier=classifier,
        )
    assert list((tmp_path / "sessions").iterdir()) == []


def test_the_same_file_analysed_twice_at_once_gets_one_analysis() -> None:
    """Two uploads of one file at the same moment: the second is told, not analysed into a second session."""
    with analysis_claim("alice:" + "ab" * 32) as first:
        with analysis_claim("alice:" + "ab" * 32) as second, analysis_claim("bob:" + "ab" * 32) as other_owner:
            assert (first, second, other_owner) == (True, False, True)
        with analysis_claim("alice:" + "ab" * 32) as still_running:
            assert still_running is False  # the second one leaving does not free the first one's claim
    with analysis_claim("alice:" + "ab" * 32) as later:
        assert later is True  # once the first is done (stored or failed), the file may be analysed again


def test_a_disk_filling_up_midway_is_an_output_error_and_leaves_nothing(
    face_clip: Path, classifier, store: SessionStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from fer.engine.outputs import DetectionsCsv, OutputError

    real_write = DetectionsCsv.write
    written = [0]

    def write(self: DetectionsCsv, *args: object, **kwargs: object) -> None:
        written[0] += 1
        if written[0] > 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, *args, **kwargs)

    monkeypatch.setattr(DetectionsCsv, "write", write)
    with pytest.raises(OutputError, match=r"the server's disk is full \(No space left on device\)") as failed:
        _analyse(face_clip, store, tmp_path, classifier)
    assert isinstance(failed.value.__cause__, OSError) and failed.value.__cause__.errno == errno.ENOSPC
    assert written[0] == 6 and store.list() == []
    assert list((tmp_path / "sessions").iterdir()) == []  # no folder, no staging folder, no partial video
