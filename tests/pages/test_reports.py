"""The Reports page on generated sessions (AppTest): the summary first, moments that start the video there,
lesson markers, the grouped view, the comparison and the printable report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fer.sessions.store import SessionStore
from tests.synthetic import scripted_session, stored_with_video

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    return tmp_path / "data"


def _reports() -> AppTest:
    return AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60).run()


def _text(app: AppTest) -> str:
    return " ".join(m.value.replace("\\", "") for m in app.markdown)


def test_the_report_opens_with_its_summary_then_the_numbers_charts_video_and_downloads(data_folder: Path) -> None:
    stored_with_video(SessionStore(), data_folder, faces=12, seconds=600)
    app = _reports()
    assert not app.exception and not app.error
    when = app.markdown[0].value.replace("\\", "")
    assert when.startswith("Recording “lesson.mp4” analysed ")  # when, in the viewer's time zone
    assert when.endswith("(UTC)")  # AppTest has no browser time zone: said, not hidden
    assert app.markdown[1].value.replace("\\", "").startswith("This 10:00 recording showed 12 faces.")
    assert {m.label: m.value for m in app.metric}["Length"] == "10:00"
    assert len(app.get("vega_lite_chart")) == 2 and len(app.get("component_instance")) == 1  # the player
    labels = [b.proto.label for b in app.get("link_button")] + [b.label for b in app.get("download_button")]
    assert labels == [
        "Annotated video",
        "Detections (CSV)",
        "Timeline (CSV)",
        "Summary (JSON)",
        "Printable report (HTML)",
    ]


def test_a_notable_moment_starts_the_video_there(data_folder: Path) -> None:
    stored_with_video(SessionStore(), data_folder, faces=12, seconds=600)
    app = _reports()
    assert _seek(app) is None
    moments = [b for b in app.button if b.label.startswith("▶ ")]
    assert [b.label for b in moments] == ["▶ 3:20", "▶ 6:40"]  # the scripted lesson's two changes
    assert "Positive expressions rose from" in _text(app) and "percentage points" in _text(app)
    moments[1].click()
    app.run()
    assert _seek(app)["time_s"] == 400


def _seek(app) -> dict | None:
    """What the page asked the player to seek to."""
    return json.loads(app.get("component_instance")[0].proto.json_args)["seek"]


def test_lesson_markers_are_added_checked_shown_on_the_charts_and_removed(data_folder: Path) -> None:
    session_id = scripted_session(SessionStore(), faces=3, seconds=600)
    app = _reports()
    time_input = next(t for t in app.text_input if t.label == "Time (m:ss)")
    label_input = next(t for t in app.text_input if t.label == "Label")
    time_input.set_value("soon")
    label_input.set_value("quiz")
    next(b for b in app.button if b.label == "Add marker").click()
    app.run()
    assert any("is not a time: write minutes:seconds" in e.value for e in app.error)
    assert SessionStore().markers(session_id).empty
    next(t for t in app.text_input if t.label == "Time (m:ss)").set_value("2:30")
    next(t for t in app.text_input if t.label == "Label").set_value("quiz")
    next(b for b in app.button if b.label == "Add marker").click()
    app.run()
    assert SessionStore().markers(session_id)[["time_s", "label"]].values.tolist() == [[150.0, "quiz"]]
    assert "2:30 · quiz" in _text(app)
    main, below = app.get("vega_lite_chart")
    assert any(b"quiz" in dataset.data.data for dataset in main.proto.datasets)  # a labelled line on the chart
    assert any(b"quiz" in dataset.data.data for dataset in below.proto.datasets)  # and a line below
    next(b for b in app.button if b.label == "Remove").click()
    app.run()
    assert SessionStore().markers(session_id).empty


def test_the_grouped_view_shows_four_groups(data_folder: Path) -> None:
    scripted_session(SessionStore(), faces=12, seconds=300)
    app = _reports()
    app.get("button_group")[0].set_value("Grouped")
    app.run()
    assert not app.exception
    spec = app.get("vega_lite_chart")[0].proto.spec
    domain = re.search(r'"domain": ?\[("positive"[^\]]*)\]', spec)
    assert domain and domain.group(1).replace(" ", "") == '"positive","neutral","surprise","negative"'


def test_sessions_compare_on_one_lesson_time_axis_with_a_table_of_numbers(data_folder: Path) -> None:
    store = SessionStore()
    short = scripted_session(store, faces=1, seconds=300, name="Short")
    long = scripted_session(store, faces=30, seconds=1200, name="Long")
    app = _reports()
    assert app.query_params["session"] == str(long)  # the newest, opened by default, is in the address
    app.multiselect[0].set_value([short, long])
    app.run()
    assert not app.exception
    assert app.query_params["session"] == [str(short), str(long)]  # the comparison can be bookmarked
    reopened = AppTest.from_file(str(ROOT / "pages" / "reports.py"), default_timeout=60)
    reopened.query_params["session"] = [str(short), str(long)]
    assert reopened.run().multiselect[0].value == [short, long]
    table = app.dataframe[0].value
    assert table["Session"].tolist() == ["Short", "Long"] and table["Length"].tolist() == ["5:00", "20:00"]
    assert set(table.columns) >= {"Faces", "Read", "Positive", "Negative"}
    assert table["Read"].tolist() == [89, 90]  # whole percentages, never cut to "0.…"
    charts = app.get("vega_lite_chart")
    assert len(charts) == 2
    # both on the longer session's axis: 0 to 20:00
    assert all(re.search(r'"domain": ?\[0, ?1200', c.proto.spec) for c in charts)
    app.get("button_group")[1].set_value("Share of the lesson")
    app.run()
    assert all(re.search(r'"domain": ?\[0, ?100\]', c.proto.spec) for c in app.get("vega_lite_chart"))


def test_each_face_over_time_is_drawn_only_when_asked_for(data_folder: Path) -> None:
    scripted_session(SessionStore(), faces=5, seconds=120)
    app = _reports()
    assert len(app.get("vega_lite_chart")) == 2
    app.toggle[0].set_value(True)
    app.run()
    strip = app.get("vega_lite_chart")[2]
    assert '"track_id"' in strip.proto.spec and not app.exception


def test_without_a_kept_video_moments_show_their_time_but_offer_nothing_to_play(data_folder: Path) -> None:
    scripted_session(SessionStore(), faces=12, seconds=600)
    app = _reports()
    assert not [b for b in app.button if b.label.startswith("▶ ")]
    assert "**3:20**" in [m.value for m in app.markdown]
    assert not any("to play the video" in c.value for c in app.caption)
