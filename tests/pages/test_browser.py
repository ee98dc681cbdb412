"""The real thing in a real browser: Streamlit served on a free port, Debian's chromium driven by Playwright.

Streams a fake camera (the clip as Y4M) on the Live page and finds the saved live session;
cancels an analysis half-way (nothing may be stored); closes the tab right after pressing Analyse and finds the
analysis finished later; uploads ../shared/videos/smiling_woman.mp4 on "Analyse a video", follows the job to its
report, checks that the recording plays and the charts render (light and dark theme).
Screenshots go to screenshots/ (look at them). A fresh clone without ../shared runs the live, cancel and
too-small tests on a real face the repository may hold (matplotlib's Grace Hopper portrait, moving across a
generated room); the two whose report needs a living face skip there: a photo moving across the frame is rightly
set aside as a picture, so its report has no chart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app_server import running_app
from tests.conftest import CHROMIUM, VIDEOS, needs_videos, write_face_clip
from tests.pages.fake_camera import fake_camera_browser

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM} (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("browser_data")) as url:
        yield url


@pytest.fixture(scope="module")
def page(playwright, app_url: str) -> Iterator[object]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    yield browser.new_page(viewport={"width": 1400, "height": 2600})  # tall: Streamlit scrolls inside
    browser.close()


def _queue(page, app_url: str, clip: Path) -> None:
    """Upload ``clip`` on Analyse and press Analyse: it becomes a job in the list below."""
    page.goto(f"{app_url}/analyse")
    page.get_by_text("Recording").first.wait_for(timeout=60_000)
    page.locator("input[type=file]").set_input_files(str(clip))
    page.get_by_role("button", name="Analyse", exact=True).click()
    page.get_by_text("You can close this tab", exact=False).wait_for(timeout=60_000)


def _open_report_when_done(page, name: str, timeout_ms: int = 300_000) -> None:
    """Wait in the job list for the analysis ``name`` to finish, then follow its link to the report."""
    job = page.locator("[class*='-job-']").filter(has_text=name).first  # the job's own box (keyed "…-job-<id>")
    link = job.get_by_role("link", name="Done: open the report")
    link.wait_for(timeout=timeout_ms)
    link.click()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60_000)


def _player_video(page):
    """The report's player: the recording itself, in the component's frame, once it knows its length."""
    video = page.frame_locator("iframe[title='fer.app.player.fer_player']").locator("video")
    video.wait_for(timeout=60_000)
    video.scroll_into_view_if_needed()
    video.evaluate("v => new Promise(r => v.readyState >= 2 ? r() : v.addEventListener('loadeddata', r, {once: true}))")
    return video


def test_cancel_stops_the_analysis_and_stores_nothing(app_url: str, page, tmp_path: Path) -> None:
    page.goto(f"{app_url}/analyse")  # a deep link as the server's very first request
    page.get_by_text("Recording").first.wait_for(timeout=60_000)
    sidebar = page.locator("[data-testid='stSidebarNav']")
    assert sidebar.get_by_text("Analyse a video").count() == 1  # app.py's menu, not the pages/ folder's
    # three minutes long: at 8 readings a second a shorter clip is analysed before the list shows its pace (the time
    # left is shown after 3 s of analysis)
    _queue(page, app_url, write_face_clip(tmp_path / "long_lesson.mp4", frames=2700, fps=15.0))
    page.get_by_text(" analysed, about ", exact=False).first.wait_for(timeout=120_000)  # the list follows it
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Cancelled; nothing was stored.").wait_for(timeout=60_000)
    page.goto(f"{app_url}/reports")
    page.get_by_text("No sessions yet").wait_for(timeout=60_000)


@needs_videos
def test_closing_the_tab_mid_analysis_lets_the_analysis_finish(playwright, app_url: str) -> None:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    tab = browser.new_page(viewport={"width": 1280, "height": 1600})
    _queue(tab, app_url, VIDEOS / "video_call.mp4")
    browser.close()  # the teacher goes away; the job does not
    later = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    try:
        page = later.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(app_url)  # Home: the sidebar lists the job on every page
        _open_report_when_done(page, "video_call")
        page.get_by_text("video_call").first.wait_for(timeout=60_000)
    finally:
        later.close()


@needs_videos
def test_upload_analyse_watch_and_find_the_session_in_reports(app_url: str, page) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    _queue(page, app_url, VIDEOS / "smiling_woman.mp4")
    page.get_by_text("smiling_woman").first.wait_for(timeout=60_000)  # in the list, with its progress
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENSHOTS / "analyse.png"), full_page=True)
    _open_report_when_done(page, "smiling_woman")

    video = _player_video(page)  # the uploaded recording itself, the faces drawn over it
    duration = video.evaluate("v => v.duration")
    assert duration == pytest.approx(4.6, abs=0.3)
    video.evaluate("v => { v.muted = true; return v.play(); }")
    video.evaluate("v => new Promise(r => { const t = () => v.currentTime > 0.5 ? r() : setTimeout(t, 100); t(); })")
    charts = page.locator("[data-testid='stVegaLiteChart']")
    assert charts.count() == 2  # the expressions over time, the faces present below
    assert page.get_by_text("of the face time", exact=False).count() >= 1
    page.wait_for_timeout(1500)  # let the charts draw before the screenshot
    page.screenshot(path=str(SCREENSHOTS / "reports.png"), full_page=True)

    page.goto(f"{app_url}/reports?embed=true&embed_options=dark_theme")  # readable on a dark theme too
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SCREENSHOTS / "reports_dark.png"), full_page=True)


def test_faces_too_small_to_read_are_shown_as_present_and_never_given_an_expression(
    app_url: str, page, tmp_path: Path
) -> None:
    clip = write_face_clip(tmp_path / "back_row.mp4", frames=30, portrait_px=72)  # a face about 26 px across
    _queue(page, app_url, clip)
    _open_report_when_done(page, "back_row")
    page.get_by_text("None of the faces could be read", exact=False).first.wait_for(timeout=60_000)
    assert page.get_by_text("Not read: too small.", exact=True).count() == 1
    assert page.get_by_text("px across", exact=False).count() >= 1  # the warning says why and what to do
    video = _player_video(page)
    video.evaluate("v => new Promise(r => { v.addEventListener('seeked', r, {once: true}); v.currentTime = 2.0; })")
    page.wait_for_timeout(500)
    frame = page.frame_locator("iframe[title='fer.app.player.fer_player']")
    assert frame.locator("canvas").get_attribute("data-faces") == "1"  # present: a thin grey box, no expression
    frame.locator("#stage").screenshot(path=str(SCREENSHOTS / "analyse_unread_face.png"))


def _start_live_stream(page, app_url: str, session_name: str):
    """Open Live, name the session, pick the server mode, press START and wait until the server plays the stream and
    the panel sees the face; returns the iframe.

    No retry: a stream that carried no frame was streamlit-webrtc stopping it as stale while it was being set up,
    on a loaded machine (fer.app.live_stream says why and how the Live page keeps it). A failure says which of
    the two never happened and leaves a screenshot.
    """
    page.goto(f"{app_url}/live")
    name_box = page.get_by_label("Session name")
    name_box.fill(session_name)
    name_box.press("Enter")
    page.get_by_text("On this server").click()  # the WebRTC mode (the browser mode is the default without TURN)
    webrtc = page.frame_locator("iframe[title*='webrtc']").first
    webrtc.get_by_role("button", name="START").click(timeout=90_000)
    metric = page.locator("[data-testid='stMetric']")
    playing = metric.filter(has_text="Running").filter(has_text=re.compile(r"\d:\d\d"))  # "–" until it plays
    face_seen = metric.filter(has_text="Faces now").get_by_text("1", exact=True)
    stages = [
        ("the server never saw the stream playing", playing),
        ("the stream played but no face was analysed", face_seen),
    ]
    for failure, shown in stages:
        try:
            shown.first.wait_for(timeout=60_000)
        except playwright_api.TimeoutError as error:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"live_failed_{session_name.replace(' ', '_')}.png"))
            raise AssertionError(f"{session_name}: {failure} within 60 s") from error
    return webrtc


def test_live_stream_from_a_fake_camera_is_analysed_and_saved(playwright, app_url: str, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    browser = fake_camera_browser(playwright, tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    webrtc = _start_live_stream(page, app_url, "Stopped stream")
    page.get_by_text("The last minute").wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stVegaLiteChart']\").length >= 2", timeout=30_000
    )
    page.wait_for_timeout(3000)
    page.screenshot(path=str(SCREENSHOTS / "live.png"))
    webrtc.get_by_role("button", name="STOP").click()
    page.get_by_text("is saved").wait_for(timeout=60_000)
    page.goto(f"{app_url}/reports")
    page.get_by_text("Stopped stream").first.wait_for(timeout=60_000)
    browser.close()


def test_closing_the_tab_mid_stream_still_saves_the_session(playwright, app_url: str, tmp_path: Path) -> None:
    browser = fake_camera_browser(playwright, tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    _start_live_stream(page, app_url, "Tab closed mid-stream")
    page.wait_for_timeout(3000)
    page.close()  # no STOP: the page never reruns to save
    reports = browser.new_page(viewport={"width": 1400, "height": 1600})
    for _ in range(12):  # the server saves after 10 s without frames
        reports.goto(f"{app_url}/reports")
        reports.get_by_text("Sessions (pick two or more").first.wait_for(timeout=60_000)
        if reports.get_by_text("Tab closed mid-stream").count():
            break
        reports.wait_for_timeout(5000)
    reports.get_by_text("Tab closed mid-stream").first.wait_for(timeout=5_000)
    browser.close()
