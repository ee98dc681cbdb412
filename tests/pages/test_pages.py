"""Pages driven through Streamlit's AppTest (no browser)."""

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from fer.app.model_card import PROFILE_METRICS, shipped_model_summary
from fer.engine.pipeline import AnalysisSettings
from fer.sessions.jobs import JobQueue
from fer.sessions.store import SessionStore

ROOT = Path(__file__).resolve().parents[2]


def test_home_page_renders_the_notices_and_measured_model_numbers(data_folder: Path) -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    text = " ".join(m.value for m in app.markdown) + " ".join(w.value for w in app.warning)
    assert "not feelings" in text
    assert "holds numbers only, never a face image" in text
    assert "Files that do show faces" in text and "annotated video" in text  # what is kept, said exactly
    assert "EU AI Act" in text and "education institutions" in text
    measured = [json.loads(path.read_text()) for _, path in PROFILE_METRICS.values()]  # fast, then accurate
    said = [line for line in text.split("- **") if "test faces it had never seen" in line]
    assert len(said) == 2  # fast, then accurate, in plain words with the measured numbers
    for line, m, (use, _) in zip(said, measured, PROFILE_METRICS.values(), strict=True):
        assert line.startswith(use) and f"{m['accuracy']:.0%}" in line and f"{m['macro_f1']:.2f} F1" in line
    links = [link.label for link in app.get("page_link")]
    assert links[:2] == ["**Analyse a recording**", "**Watch a live lesson**"]  # the next steps come first


def test_summary_survives_a_missing_or_broken_metrics_file(tmp_path: Path) -> None:
    assert shipped_model_summary(tmp_path / "missing.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert shipped_model_summary(broken) is None


@pytest.fixture
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each page test gets its own empty data folder and SQLite database; its job worker leaves 1 s after its
    last job."""
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    monkeypatch.setenv("FER_JOB_IDLE_EXIT_S", "1")
    return tmp_path / "data"


def _press_analyse(clip_bytes: bytes, filename: str = "maths.mp4", name: str = "Maths, period 2") -> AppTest:
    """Upload and press Analyse (through app.py, as the server runs every page)."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    app.switch_page("pages/analyse.py").run()
    app.file_uploader[0].set_value((filename, clip_bytes, "video/mp4"))
    app.run()
    app.text_input[0].set_value(name)
    app.button[0].click()  # Analyse
    return app.run()


def _analyse(clip_bytes: bytes, filename: str = "maths.mp4", name: str = "Maths, period 2") -> AppTest:
    """Upload and press Analyse; once the job the page queued has ended (the worker the page started runs it),
    run the page again, as its self-refreshing list would."""
    app = _press_analyse(clip_bytes, filename, name)
    _wait_for_jobs()
    return app.run()


def _wait_for_jobs(timeout_s: float = 240) -> None:
    queue = JobQueue(SessionStore().engine)
    deadline = time.monotonic() + timeout_s
    while any(job.active for job in queue.listed(None)) and time.monotonic() < deadline:
        time.sleep(0.2)


def _job_list(app: AppTest) -> str:
    return " ".join(m.value.replace("\\", "") for m in [*app.markdown, *app.caption])


def test_an_upload_becomes_a_job_analysed_in_the_background_and_linked_to_its_report(
    data_folder: Path, face_clip: Path
) -> None:
    app = _press_analyse(face_clip.read_bytes())
    assert not app.exception and not app.error
    assert any("You can close this tab" in s.value for s in app.success)
    assert not app.file_uploader[0].value  # a fresh uploader: Streamlit no longer holds the upload in memory
    assert "Maths, period 2" in _job_list(app) and [b.label for b in app.button if b.label == "Cancel"] == ["Cancel"]
    again = _press_analyse(face_clip.read_bytes(), name="again")  # the same file while it runs: not queued twice
    assert any("being analysed already" in w.value or "already analysed" in w.value for w in again.warning)
    _wait_for_jobs()
    app.run()
    (job,) = JobQueue(SessionStore().engine).listed(None)
    assert job.state == "done"
    (link,) = app.get("page_link")
    assert (link.proto.page, link.proto.query_string) == ("reports", f"session={job.session_id}")
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
    again = _press_analyse(face_clip.read_bytes(), name="again")
    assert any("already analysed" in w.value for w in again.warning)
    assert JobQueue(SessionStore().engine).active() == []  # nothing queued before the teacher confirms
    assert [s.name for s in SessionStore().list()] == ["Maths, period 2"]


def test_a_bad_upload_fails_with_its_reason_in_the_list_and_stores_nothing(data_folder: Path) -> None:
    app = _analyse(b"this is not a video at all" * 100, filename="notes.mp4")
    assert not app.exception
    (message,) = [c.value for c in app.caption if "could not be analysed" in c.value]
    assert "notes.mp4" in message.replace("\\", "")  # the teacher's file name (Markdown-escaped in the page)
    assert not any(len(word) >= 64 for word in message.split())  # never the name of our hashed copy
    assert SessionStore().list() == []
    assert not list(data_folder.glob("sessions/*")) and not list(data_folder.glob("uploads/*"))


def test_reports_lists_renders_and_deletes_a_session(data_folder: Path, face_clip: Path) -> None:
    _analyse(face_clip.read_bytes())
    app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60).run()
    assert not app.exception
    assert "Maths, period 2" in app.multiselect[0].format_func(app.multiselect[0].value[0])
    assert len(app.get("vega_lite_chart")) == 2  # the expressions over time, the faces present below
    assert any(m.value.replace("\\", "").startswith("This 0:02 recording showed 1 face") for m in app.markdown)
    assert len(app.get("component_instance")) == 1  # the player: the recording itself, the faces drawn over it
    links = [b.proto.label for b in app.get("link_button")]
    assert links == ["Detections (CSV)", "Timeline (CSV)", "Summary (JSON)"]  # no annotated video encoded
    assert [b.label for b in app.get("download_button")] == ["Printable report (HTML)"]
    assert any(b.label.startswith("Make the annotated video") for b in app.button)  # made when asked for
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
    assert SessionStore().audit()["action"].tolist() == ["delete", "upload"]  # newest first


def test_a_session_with_no_face_read_says_why_and_charts_no_expression(data_folder: Path, tmp_path: Path) -> None:
    from tests.conftest import write_face_clip

    _analyse(write_face_clip(tmp_path / "far.mp4", portrait_px=72).read_bytes(), name="Back row")
    app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60).run()
    assert not app.exception and not app.error
    assert next(m for m in app.metric if m.label == "Expressions read").value == "0%"
    assert next(m for m in app.metric if m.label == "Most common expression read").value == "none read"
    assert any(c.value == "Not read: too small." for c in app.caption)
    assert any("None of the faces could be read \\(too small\\)" in m.value for m in app.markdown)
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


@pytest.mark.parametrize(
    "code, says", [("ENOSPC", "No space left on device"), ("EROFS", "Read-only file system")], ids=["full", "read-only"]
)
def test_a_full_or_read_only_disk_at_upload_is_a_message_not_a_traceback(
    code: str, says: str, data_folder: Path, face_clip: Path, monkeypatch
) -> None:
    import errno
    import os

    import fer.sessions.workflow

    def unwritable(*_args: object) -> None:
        raise OSError(getattr(errno, code), os.strerror(getattr(errno, code)))

    monkeypatch.setattr(fer.sessions.workflow, "save_upload", unwritable)  # the page imports it on each run
    app = AppTest.from_file(str(ROOT / "pages" / "analyse.py"), default_timeout=60).run()
    app.file_uploader[0].set_value(("maths.mp4", face_clip.read_bytes(), "video/mp4"))
    app.run()
    app.button[0].click()
    app.run()
    assert not app.exception
    (message,) = [e.value for e in app.error]
    assert "could not be saved on the server" in message and says in message and "writable" in message
    assert SessionStore().list() == []


def test_home_lists_recent_sessions(data_folder: Path, face_clip: Path) -> None:
    _analyse(face_clip.read_bytes())
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert "Maths, period 2" in app.dataframe[0].value["session"].tolist()


def test_an_unreachable_database_is_an_error_message_not_a_traceback(data_folder: Path, monkeypatch) -> None:
    monkeypatch.setenv("FER_DATABASE_URL", "postgresql+psycopg://nobody:wrong@127.0.0.1:9/none")
    app = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60).run()
    assert not app.exception
    (message,) = [e.value for e in app.error]
    assert "The database server did not answer (127.0.0.1:9)" in message
    assert "wrong" not in message and "sqlalche.me" not in message  # no password, no driver text


def test_live_page_renders_its_controls_without_a_camera(data_folder: Path, monkeypatch) -> None:
    # streamlit-webrtc needs a real server runtime, which AppTest mocks; the browser test covers the stream
    stopped = SimpleNamespace(state=SimpleNamespace(playing=False))
    monkeypatch.setattr("streamlit_webrtc.webrtc_streamer", lambda **_: stopped)
    app = AppTest.from_file(str(ROOT / "pages" / "live.py"), default_timeout=120).run()
    assert not app.exception
    assert app.text_input[0].value.startswith("Live ")
    assert app.radio[0].value == "In this browser"  # the default without a TURN server: nothing to configure
    assert "only numbers reach the server" in app.caption[0].value
    assert "Snapshot of the current frame" not in [b.label for b in app.button]  # no frame reaches the server
    app.radio[0].set_value("On this server").run()
    assert not app.exception
    assert [t.label for t in app.toggle] == ["Pause analysis"]
    snapshot = next(b for b in app.button if b.label == "Snapshot of the current frame")
    snapshot.click()
    app.run()
    assert any("No frame has been analysed yet" in i.value for i in app.info)
    assert {m.label for m in app.metric} >= {"Faces now", "Processed fps"}


def test_live_defaults_to_the_server_mode_where_a_turn_server_is_configured(data_folder: Path, monkeypatch) -> None:
    stopped = SimpleNamespace(state=SimpleNamespace(playing=False))
    monkeypatch.setattr("streamlit_webrtc.webrtc_streamer", lambda **_: stopped)
    app = AppTest.from_file(str(ROOT / "pages" / "live.py"), default_timeout=120)
    app.secrets["webrtc"] = {"ice_servers": [{"urls": "turn:turn.school.example:3478"}]}
    app.run()
    assert not app.exception
    assert app.radio[0].value == "On this server"


def _damage(database: Path, how: str) -> None:
    """Damage a SQLite file as a failing disk or a stray write would, its write-ahead log merged in first."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    data = bytearray(database.read_bytes())
    if how == "garbage":  # nothing of a database left
        data = bytearray(b"\x13\x37 not a database any more " * (len(data) // 26 + 1))[: len(data)]
    elif how == "middle":  # its middle half overwritten: the header and the schema page are intact
        start, end = len(data) // 4, 3 * len(data) // 4
        data[start:end] = (b"\xde\xad\xbe\xef" * (len(data) // 4))[: end - start]
    else:  # every page but the first (the schema): any table read fails
        data[4096:] = b"\xde\xad\xbe\xef" * ((len(data) - 4096) // 4)
    database.write_bytes(bytes(data))


def _every_page(clip_bytes: bytes) -> dict[str, AppTest]:
    """Home, Reports, and Analyse once a recording is uploaded and Analyse pressed, all run through app.py."""
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    pages = {"home": app}
    reports = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    pages["reports"] = reports.switch_page("pages/reports.py").run()
    analyse = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    analyse.switch_page("pages/analyse.py").run()
    analyse.file_uploader[0].set_value(("physics.mp4", clip_bytes, "video/mp4"))
    analyse.run()
    next(b for b in analyse.button if b.label == "Analyse").click()
    pages["analyse"] = analyse.run()
    return pages


@pytest.mark.parametrize("how", ["garbage", "middle", "after-opening"])
def test_a_damaged_database_is_an_error_message_on_every_page(
    how: str, data_folder: Path, face_clip: Path, tmp_path: Path, routed: None
) -> None:
    from fer.app.resources import _open_store
    from tests.conftest import write_face_clip

    _analyse(face_clip.read_bytes())
    _analyse(write_face_clip(tmp_path / "two.mp4", fps=12.0).read_bytes(), name="Second")
    url = f"sqlite:///{data_folder / 'sessions.db'}"
    _open_store(url).engine.dispose()
    if how != "after-opening":
        _open_store.clear()  # a server started on the damaged file
    _damage(data_folder / "sessions.db", how)  # after-opening: the server opened it healthy; it breaks meanwhile
    other = write_face_clip(tmp_path / "three.mp4", fps=8.0).read_bytes()
    # what SQLite says: at opening, of the header, or of the pages its quick check reads; later, of a page read
    reason = {
        "garbage": ["file is not a database"],
        "middle": ["btreeInitPage", "malformed"],
        "after-opening": ["malformed"],
    }
    for page, app in _every_page(other).items():
        assert not app.exception, page
        (message,) = [e.value for e in app.error]
        assert message.startswith("The session database cannot be read: sessions.db is damaged ("), page
        assert any(said in message for said in reason[how]) and "restore sessions.db from a backup" in message, page
        assert "SELECT" not in message and str(data_folder) not in message, page  # no SQL, no server path
        assert not app.success and not app.get("vega_lite_chart"), page
    assert len(list(data_folder.glob("sessions/*/detections.csv"))) == 2  # the stored sessions' files are untouched
    _open_store.clear()


def test_analyse_queues_the_readings_per_second_chosen(data_folder: Path, face_clip: Path) -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240).run()
    app.switch_page("pages/analyse.py").run()
    (rate,) = [box for box in app.selectbox if box.label == "Readings per second"]
    assert rate.value.startswith("8 a second") and AnalysisSettings().rate == 8.0  # the default: a lesson in minutes
    rate.set_value("Every frame (slowest)")
    app.file_uploader[0].set_value(("maths.mp4", face_clip.read_bytes(), "video/mp4"))
    app.run()
    app.button[0].click()
    app.run()
    assert not app.exception
    (job,) = JobQueue(SessionStore().engine).listed(None)
    settings = AnalysisSettings.from_dict(job.settings)
    assert settings.rate is None and settings.every == 1
    _wait_for_jobs()
