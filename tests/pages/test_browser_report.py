"""The lesson report in a real browser (Debian chromium, Playwright) on generated sessions of 1, 12 and 30 faces:
screenshots at 1280 px in light and dark (look at them: screenshots/report_*.png), a moment and a chart bar that
start the video there, the comparison, and the printable report opened as a file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fer.sessions.store import SessionStore
from tests.app_server import running_app
from tests.conftest import CHROMIUM
from tests.synthetic import scripted_session, stored_with_video

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
WIDTH = 1280


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, int]]]:
    """The app with three stored sessions: one face (5 min), twelve (10 min) and thirty faces (1 hour)."""
    data = tmp_path_factory.mktemp("report_data")
    store = SessionStore(f"sqlite:///{data / 'sessions.db'}")
    ids = {
        "1": stored_with_video(store, data, "sessions/one", faces=1, seconds=300, name="Reading, one pupil"),
        "12": stored_with_video(store, data, "sessions/twelve", faces=12, seconds=600, name="Maths, period 2"),
        "30": scripted_session(store, faces=30, seconds=3600, read_share=0.8, name="Assembly"),
    }
    store.add_marker(ids["12"], 150.0, "quiz")
    store.add_marker(ids["12"], 420.0, "group work")
    store.engine.dispose()
    with running_app(data) as url:
        yield url, ids


@pytest.fixture(scope="module")
def browser(playwright) -> Iterator[object]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    yield browser
    browser.close()


def _open(browser, url: str, dark: bool = False, height: int = 900):
    # Streamlit scrolls inside the page: a screenshot shows the viewport, so screenshots use a tall one
    page = browser.new_page(viewport={"width": WIDTH, "height": height}, color_scheme="dark" if dark else "light")
    page.goto(url + ("&embed=true&embed_options=dark_theme" if dark else ""))
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=90_000)
    page.wait_for_timeout(2000)  # the charts draw
    return page


@pytest.mark.parametrize("faces", ["1", "12", "30"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_report_screenshots_at_1280_px(browser, sessions, faces: str, theme: str) -> None:
    url, ids = sessions
    page = _open(browser, f"{url}/reports?session={ids[faces]}", dark=theme == "dark", height=2400)
    assert page.get_by_text(f"recording showed {faces} face", exact=False).count() == 1  # the summary first
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 2
    axis_labels = page.locator("[data-testid='stVegaLiteChart'] svg text, [data-testid='stVegaLiteChart'] canvas")
    assert axis_labels.count() >= 1
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"report_{faces}_faces_{theme}.png"), full_page=True)
    page.close()


def test_times_are_in_the_viewers_time_zone_and_there_is_no_deploy_button(browser, sessions) -> None:
    url, ids = sessions
    context = browser.new_context(viewport={"width": WIDTH, "height": 900}, timezone_id="Pacific/Auckland")
    page = context.new_page()
    page.goto(f"{url}/reports?session={ids['12']}")
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=90_000)
    assert page.get_by_text("(Pacific/Auckland)", exact=False).count() == 1  # stored in UTC, shown where she is
    assert page.get_by_role("button", name="Deploy").count() == 0
    context.close()


def _video(page):
    """The report's player's video (in its component frame)."""
    video = page.frame_locator("iframe[title='fer.app.player.fer_player']").locator("video")
    video.wait_for(state="attached", timeout=90_000)
    return video


def _video_time(page, after: float = -1.0, timeout_s: float = 30.0) -> float:
    """The video's time once it is past ``after`` (and its metadata loaded)."""
    video = _video(page)
    for _ in range(int(timeout_s * 10)):
        time_s = video.evaluate("v => v.readyState >= 1 ? v.currentTime : -1")
        if time_s > after:
            return float(time_s)
        page.wait_for_timeout(100)
    raise AssertionError(f"the video stayed at {time_s} s")


def test_a_click_on_a_moment_moves_the_video_there(browser, sessions) -> None:
    url, ids = sessions
    page = _open(browser, f"{url}/reports?session={ids['12']}")
    assert _video_time(page) == pytest.approx(0.0, abs=0.5)
    page.get_by_role("button", name="▶ 6:40").click()
    assert _video_time(page, after=399.0) == pytest.approx(400.0, abs=1.0)
    # and plays (muted where the browser allows no more for a video started by a click outside its frame)
    video = _video(page)
    video.evaluate("v => new Promise(r => v.paused ? v.addEventListener('playing', r, {once: true}) : r())")
    assert video.evaluate("v => !v.paused")
    page.close()


def test_a_click_on_the_chart_moves_the_video_to_that_bar(browser, sessions) -> None:
    url, ids = sessions
    page = _open(browser, f"{url}/reports?session={ids['12']}")
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    box = chart.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)  # a bar past the middle
    assert 200 < _video_time(page, after=200.0) < 500
    page.close()


def test_sessions_compare_one_above_the_other_at_1280_px(browser, sessions) -> None:
    url, ids = sessions
    page = _open(browser, f"{url}/reports?session={ids['1']}&session={ids['12']}&session={ids['30']}", height=2400)
    page.get_by_text("Assembly").first.wait_for()
    assert page.locator("[data-testid='stVegaLiteChart']").count() == 3
    table = page.locator("[data-testid='stDataFrame']").first
    assert table.bounding_box()["width"] <= WIDTH
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENSHOTS / "report_compare.png"), full_page=True)
    page.close()


def test_the_printable_report_downloads_opens_and_holds_the_charts(browser, sessions, tmp_path: Path) -> None:
    url, ids = sessions
    page = _open(browser, f"{url}/reports?session={ids['12']}")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Printable report (HTML)").click()
    saved = tmp_path / "report.html"
    download.value.save_as(saved)
    printed = browser.new_page(viewport={"width": 1000, "height": 1400})
    printed.goto(saved.as_uri())
    assert printed.locator("svg").count() == 2
    assert printed.locator("h1").inner_text() == "Maths, period 2"
    assert saved.read_text().count(">quiz</text>") == 1  # the marker on the chart
    assert saved.read_text().count('fill="#9c755f"') > 10  # the faces-read bars, not an empty chart
    assert printed.locator("td", has_text="quiz").count() == 1  # and in the markers table
    printed.screenshot(path=str(SCREENSHOTS / "report_printable.png"), full_page=True)
    printed.close()
    page.close()
