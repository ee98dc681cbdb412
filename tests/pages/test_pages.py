"""Pages driven through Streamlit's AppTest (no browser)."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from fer.app.model_card import shipped_model_summary
from fer.paths import METRICS_PATH
from fer.sessions.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]


def test_home_page_renders_the_notices_and_measured_model_numbers(data_folder: Path) -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    text = " ".join(m.value for m in app.markdown) + " ".join(w.value for w in app.warning)
    assert "not feelings" in text
    assert "No face images are stored" in text
    assert "EU AI Act" in text and "education institutions" in text
    metrics = json.loads(METRICS_PATH.read_text())
    shown = {m.label: m.value for m in app.metric}
    assert shown["Test accuracy (FER2013 PublicTest)"] == f"{metrics['accuracy']:.1%}"
    assert shown["Test images"] == f"{metrics['n']:,}"


def test_summary_survives_a_missing_or_broken_metrics_file(tmp_path: Path) -> None:
    assert shipped_model_summary(tmp_path / "missing.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert shipped_model_summary(broken) is None


@pytest.fixture
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each page test gets its own empty data folder and SQLite database."""
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    return tmp_path / "data"


def _analyse(clip_bytes: bytes, filename: str = "maths.mp4", name: str = "Maths, period 2") -> AppTest:
    app = AppTest.from_file(str(ROOT / "pages" / "analyse.py"), default_timeout=240).run()
    app.file_uploader[0].set_value((filename, clip_bytes, "video/mp4"))
    app.run()
    app.text_input[0].set_value(name)
    app.button[0].click()  # Analyse
    return app.run()


def test_upload_is_analysed_stored_and_shown(data_folder: Path, face_clip: Path) -> None:
    app = _analyse(face_clip.read_bytes())
    assert not app.exception and not app.error
    assert any("is saved" in s.value for s in app.success)
    assert not app.file_uploader[0].value  # a fresh uploader: Streamlit no longer holds the upload in memory
    assert not app.get("progress")  # the finished progress bar is gone
    assert len(app.get("video")) == 1
    assert len(app.get("vega_lite_chart")) >= 4
    assert len(app.get("download_button")) == 4
    (stored,) = SessionStore().list()
    assert (stored.name, stored.source, stored.source_name, stored.tracks) == (
        "Maths, period 2",
        "upload",
        "maths.mp4",
        1,
    )
    assert not list(data_folder.rglob("*.png")) and not list(data_folder.rglob("*.jpg"))  # no face images


def test_the_same_file_twice_asks_before_storing_a_duplicate(data_folder: Path, face_clip: Path) -> None:
    _analyse(face_clip.read_bytes())
    again = _analyse(face_clip.read_bytes(), name="again")
    assert any("already analysed" in w.value for w in again.warning)
    assert [s.name for s in SessionStore().list()] == ["Maths, period 2"]


def test_a_bad_upload_shows_an_error_and_stores_nothing(data_folder: Path) -> None:
    app = _analyse(b"this is not a video at all" * 100, filename="notes.mp4")
    assert not app.exception
    (message,) = [e.value for e in app.error if "could not be analysed" in e.value]
    assert "notes.mp4" in message.replace("\\", "")  # the teacher's file name (Markdown-escaped in the page)
    assert not any(len(word) >= 64 for word in message.split())  # never the name of our hashed copy
    assert SessionStore().list() == []
    assert not list(data_folder.glob("sessions/*")) and not list(data_folder.glob("uploads/*"))


def test_reports_lists_renders_and_deletes_a_session(data_folder: Path, face_clip: Path) -> None:
    _analyse(face_clip.read_bytes())
    app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60).run()
    assert not app.exception
    assert "Maths, period 2" in app.multiselect[0].format_func(app.multiselect[0].value[0])
    assert len(app.get("vega_lite_chart")) >= 4
    (stored,) = SessionStore().list()
    assert stored.artifacts(data_folder).is_dir() and list((data_folder / "uploads").iterdir())
    next(b for b in app.button if b.label == "Delete this session").click()
    app.run()
    assert any("Delete this session for good?" in w.value for w in app.warning)
    assert len(SessionStore().list()) == 1  # nothing is deleted before the teacher confirms
    next(b for b in app.button if b.label == "Keep it").click()
    app.run()
    assert len(SessionStore().list()) == 1
    next(b for b in app.button if b.label == "Delete this session").click()
    app.run()
    next(b for b in app.button if b.label == "Yes, delete it").click()
    app.run()
    assert SessionStore().list() == []
    assert any("No sessions yet" in i.value for i in app.info)
    # its files go at once, not at the retention date: the annotated video and exports, and the upload
    assert not stored.artifacts(data_folder).exists() and not list((data_folder / "uploads").iterdir())
    assert SessionStore().audit()["action"].tolist() == ["delete"]


def test_a_session_with_no_face_read_says_why_and_charts_no_expression(data_folder: Path, tmp_path: Path) -> None:
    from tests.conftest import write_face_clip

    _analyse(write_face_clip(tmp_path / "far.mp4", portrait_px=72).read_bytes(), name="Back row")
    app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60).run()
    assert not app.exception and not app.error
    assert next(m for m in app.metric if m.label == "Expressions read").value == "0%"
    assert next(m for m in app.metric if m.label == "Most common expression read").value == "none read"
    assert any("read on 0% of face time; not read: too small 100%" in c.value for c in app.caption)
    assert any("px across" in w.value and "closer" in w.value for w in app.warning)
    assert any("none could be read" in i.value for i in app.info)
    assert len(app.get("vega_lite_chart")) == 1  # faces present only: no expression chart from guesses


def test_a_readable_session_shows_how_much_was_read(data_folder: Path, face_clip: Path) -> None:
    _analyse(face_clip.read_bytes())
    app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60).run()
    value = next(m for m in app.metric if m.label == "Expressions read").value
    assert value.endswith("%") and int(value.removesuffix("%")) >= 90


def test_a_bad_retention_setting_is_a_message_on_every_page_and_purges_nothing(
    data_folder: Path, face_clip: Path, monkeypatch
) -> None:
    _analyse(face_clip.read_bytes())
    monkeypatch.setenv("FER_RETENTION_DAYS", "-1")
    from fer.app.resources import _open_store

    _open_store.clear()
    for page in ("app.py", "pages/reports.py", "pages/analyse.py"):
        app = AppTest.from_file(str(ROOT / page), default_timeout=60).run()
        assert not app.exception  # a message, never a traceback (Analyse says it once it needs the store)
        if page != "pages/analyse.py":
            assert any("FER_RETENTION_DAYS='-1' must be a positive number of days" in e.value for e in app.error)
    (stored,) = SessionStore().list()
    assert stored.artifacts(data_folder).is_dir()  # nothing was deleted


def test_a_full_disk_at_upload_is_a_message_not_a_traceback(data_folder: Path, face_clip: Path, monkeypatch) -> None:
    import errno

    import fer.sessions.workflow

    def full_disk(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fer.sessions.workflow, "save_upload", full_disk)  # the page imports it on each run
    app = AppTest.from_file(str(ROOT / "pages" / "analyse.py"), default_timeout=60).run()
    app.file_uploader[0].set_value(("maths.mp4", face_clip.read_bytes(), "video/mp4"))
    app.run()
    app.button[0].click()
    app.run()
    assert not app.exception
    assert any("could not be saved on the server" in e.value for e in app.error)
    assert SessionStore().list() == []


def test_an_analysis_the_database_cannot_store_is_kept_and_stored_on_retry(
    data_folder: Path, face_clip: Path, monkeypatch
) -> None:
    import sqlalchemy as sa

    real_save = SessionStore.save

    def busy(*_args: object, **_kwargs: object) -> int:
        raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(SessionStore, "save", busy)
    app = _analyse(face_clip.read_bytes())
    assert not app.exception
    assert any("could not be stored" in e.value for e in app.error) and SessionStore().list() == []
    monkeypatch.setattr(SessionStore, "save", real_save)  # the database is back
    next(b for b in app.button if b.label == "Store it again").click()
    app.run()
    assert not app.exception and any("is saved" in s.value for s in app.success)
    (stored,) = SessionStore().list()
    assert stored.name == "Maths, period 2" and stored.artifacts(data_folder).is_dir()


def test_home_lists_recent_sessions(data_folder: Path, face_clip: Path) -> None:
    _analyse(face_clip.read_bytes())
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert "Maths, period 2" in app.dataframe[0].value["session"].tolist()


def test_an_unreachable_database_is_an_error_message_not_a_traceback(data_folder: Path, monkeypatch) -> None:
    monkeypatch.setenv("FER_DATABASE_URL", "postgresql+psycopg://nobody:wrong@127.0.0.1:9/none")
    app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60).run()
    assert not app.exception
    assert any("could not be opened" in e.value for e in app.error)


def test_live_page_renders_its_controls_without_a_camera(data_folder: Path, monkeypatch) -> None:
    # streamlit-webrtc needs a real server runtime, which AppTest mocks; the browser test covers the stream
    stopped = SimpleNamespace(state=SimpleNamespace(playing=False))
    monkeypatch.setattr("streamlit_webrtc.webrtc_streamer", lambda **_: stopped)
    app = AppTest.from_file(str(ROOT / "pages" / "live.py"), default_timeout=120).run()
    assert not app.exception
    assert app.text_input[0].value.startswith("Live ")
    assert [t.label for t in app.toggle] == ["Pause analysis"]
    snapshot = next(b for b in app.button if b.label == "Snapshot of the current frame")
    snapshot.click()
    app.run()
    assert any("No frame has been analysed yet" in i.value for i in app.info)
    assert {m.label for m in app.metric} >= {"Faces now", "Processed fps"}
