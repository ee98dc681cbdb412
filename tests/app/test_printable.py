"""The printable report (fer.app.printable via session_view.printable_html): one self-contained HTML file with
the summary, numbers, charts, moments and markers, and nothing that loads from elsewhere or shows a face."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fer.app import session_view
from fer.sessions.store import SessionStore
from tests.synthetic import scripted_session


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SessionStore:
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    return SessionStore()


def test_the_printable_report_holds_summary_charts_moments_and_markers(store: SessionStore) -> None:
    session_id = scripted_session(store, faces=12, seconds=600, name="Maths <b>period</b> 2")
    store.add_marker(session_id, 150.0, "quiz & questions")
    html = session_view.printable_html(store.get(session_id), False, store.markers(session_id))
    assert html.startswith("<!doctype html>") and html.endswith("</html>")
    assert "<title>Maths &lt;b&gt;period&lt;/b&gt; 2</title>" in html  # a name is text, never markup
    assert "This 10:00 recording showed 12 faces." in html
    assert html.count("<svg") == 2 and len(re.findall(r"<path[^>]*fill=\"#f2b701\"", html)) >= 1  # happy bars drawn
    assert ">0:00</text>" in html and ">10:00</text>" in html  # lesson time on the axes
    assert "<td>3:20</td>" in html and "<td>6:40</td>" in html and "percentage points" in html
    assert "<td>2:30</td><td>quiz &amp; questions</td>" in html and html.count(">quiz &amp; questions</text>") == 1
    assert "not feelings" in html and "holds no face image" in html


def test_the_printable_report_loads_nothing_from_elsewhere_and_holds_no_image(store: SessionStore) -> None:
    session_id = scripted_session(store, faces=3, seconds=120)
    html = session_view.printable_html(store.get(session_id), True, store.markers(session_id))
    assert "<script" not in html and "<img" not in html and "<link" not in html and "<image" not in html
    # nothing fetched: no source, link or url() but the SVG's own clip paths (url(#clip1): the bars stop at the end)
    assert not re.search(r"(src|href)=|url\((?!#)", html) and "url(#" in html
    assert "positive" in html and "negative" in html  # the grouped view's legend


def test_a_session_where_nothing_was_read_prints_without_an_expression_chart(store: SessionStore) -> None:
    session_id = scripted_session(store, faces=4, seconds=60, read_share=0.0)
    html = session_view.printable_html(store.get(session_id), False, store.markers(session_id))
    assert html.count("<svg") == 1 and "None of the faces could be read" in html


def test_the_charts_keep_their_data_while_another_session_switches_altairs_data_transformer(
    store: SessionStore,
) -> None:
    """Streamlit switches Altair's process-wide data transformer while it draws a chart for any session; a report
    built meanwhile once came out with empty layers. The printable report must not depend on it."""
    import altair as alt

    session_id = scripted_session(store, faces=12, seconds=600)
    store.add_marker(session_id, 150.0, "quiz")
    alt.data_transformers.register("elsewhere", lambda data: {"name": "data-held-elsewhere"})
    with alt.data_transformers.enable("elsewhere"):
        html = session_view.printable_html(store.get(session_id), False, store.markers(session_id))
    assert len(re.findall(r"<path[^>]*fill=\"#9c755f\"", html)) > 10  # the faces read, drawn
    assert html.count(">quiz</text>") == 1
