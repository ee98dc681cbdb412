"""An upload stored on disk leaves Streamlit's in-memory upload store (bench/upload_memory.py measures the server)."""

from types import SimpleNamespace

from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFile, UploadedFileRec

from fer.app import uploads


def test_a_released_upload_leaves_streamlits_memory_and_others_stay(monkeypatch) -> None:
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    for file_id in ("lesson", "other"):
        manager.add_file("session", UploadedFileRec(file_id, f"{file_id}.mp4", "video/mp4", b"\0" * 1000))
    context = SimpleNamespace(uploaded_file_mgr=manager, session_id="session")
    monkeypatch.setattr(uploads, "get_script_run_ctx", lambda: context)
    (lesson,) = manager.get_files("session", ["lesson"])
    uploads.release(UploadedFile(lesson, None))
    assert manager.get_files("session", ["lesson"]) == []
    assert [f.file_id for f in manager.get_files("session", ["other"])] == ["other"]
