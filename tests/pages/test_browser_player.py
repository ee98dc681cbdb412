"""The report plays the teacher's own recording with the faces drawn over it (no annotated copy encoded), in a real
browser (Debian chromium, Playwright): boxes on the faces at two seek positions, a moment that seeks and plays,
screenshots in light and dark (screenshots/player_*.png: look at them); and the routes it reads: range requests,
a forged or foreign link refused, a deleted session's recording gone at once."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from fer.app import media_routes
from fer.engine.classifier import EmotionClassifier
from fer.engine.outputs import ANNOTATED_VIDEO
from fer.engine.pipeline import AnalysisSettings
from fer.sessions.store import SessionStore
from fer.sessions.workflow import analyse_and_store, save_upload
from tests.app_server import running_app
from tests.conftest import CHROMIUM, VIDEOS, write_face_clip

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}")

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"


def _recording(folder: Path) -> Path:
    """A real clip: the shared video call (eight faces, then a close-up) where it is, else the portrait photo
    sliding across a 400x300 room (a real face, generated motion) for a fresh clone."""
    shared = VIDEOS / "video_call.mp4"
    return shared if shared.is_file() else write_face_clip(folder / "portrait.mp4", frames=60, fps=10.0)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """The app serving one upload analysed as the job worker does: the recording plays as it is, so no annotated
    video is written."""
    data = tmp_path_factory.mktemp("player_data")
    store = SessionStore(f"sqlite:///{data / 'sessions.db'}")
    clip = _recording(data)
    with clip.open("rb") as stream:
        upload, sha256 = save_upload(stream, clip.name, data / "uploads")
    session_id, _result = analyse_and_store(
        upload, name="Video call", store=store, data_folder=data, settings=AnalysisSettings(profile="accurate"),
        classifier=EmotionClassifier(profile="accurate"), source_name=clip.name, source_sha256=sha256,
        write_video=False,
    )  # fmt: skip
    assert not (data / store.get(session_id).artifacts_dir / ANNOTATED_VIDEO).exists()
    store.engine.dispose()
    with running_app(data) as url:
        yield url, session_id, data


@pytest.fixture(scope="module")
def browser(playwright) -> Iterator[object]:
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
    )
    yield browser
    browser.close()


def _player(page):
    frame = page.frame_locator("iframe[title='fer.app.player.fer_player']")
    frame.locator("video").wait_for(timeout=90_000)
    return frame


def _seek(frame, time_s: float) -> int:
    """Seek the player's video and wait for the overlay to be drawn; the faces drawn."""
    frame.locator("video").evaluate(f"v => {{ v.pause(); v.currentTime = {time_s}; }}")
    frame.locator("video").evaluate(
        "v => new Promise(r => v.readyState >= 2 && !v.seeking ? r() : v.addEventListener('seeked', r, {once: true}))"
    )
    frame.locator("canvas").evaluate("() => new Promise(r => setTimeout(r, 300))")
    return int(frame.locator("canvas").get_attribute("data-faces") or 0)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_report_plays_the_recording_with_boxes_on_the_faces(browser, analysed, theme: str) -> None:
    url, session_id, _data = analysed
    page = browser.new_page(viewport={"width": 1280, "height": 1600}, color_scheme=theme)
    page.goto(
        f"{url}/reports?session={session_id}" + ("&embed=true&embed_options=dark_theme" if theme == "dark" else "")
    )
    frame = _player(page)
    frame.locator("video").evaluate(
        "v => new Promise(r => v.readyState >= 1 ? r() : v.addEventListener('loadedmetadata', r, {once: true}))"
    )
    frame.locator("video[data-face-frames]").wait_for(timeout=60_000)  # the boxes arrived
    SCREENSHOTS.mkdir(exist_ok=True)
    for time_s in (1.0, 2.0):  # the gallery of eight (shared clip) or the sliding portrait: faces at both
        assert _seek(frame, time_s) >= 1
        page.screenshot(path=str(SCREENSHOTS / f"player_{theme}_{time_s:g}s.png"), full_page=True)
    page.close()


def test_a_click_on_the_chart_seeks_the_recording_there_and_plays_it(browser, analysed) -> None:
    url, session_id, _data = analysed
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    page.goto(f"{url}/reports?session={session_id}")
    frame = _player(page)
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # the chart draws
    box = chart.bounding_box()
    # a bar well into the recording: bars are as wide as ten face readings need (the video call's are 5 s)
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5)
    video = frame.locator("video")
    video.evaluate("v => new Promise(r => v.paused ? v.addEventListener('playing', r, {once: true}) : r())")
    assert video.evaluate("v => !v.paused && v.currentTime >= 1.5")
    page.close()


def test_the_annotated_video_is_made_on_request_and_downloads_with_every_frame(browser, analysed, tmp_path) -> None:
    url, session_id, data = analysed
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(f"{url}/reports?session={session_id}")
    _player(page)
    page.get_by_role("button", name="Make the annotated video", exact=False).click()
    job = page.locator("[class*='-job-']").filter(has_text="Annotated video: Video call").first
    job.get_by_role("link", name="Done: open the report").wait_for(timeout=240_000)
    page.goto(f"{url}/reports?session={session_id}")
    saved = tmp_path / "annotated.mp4"
    _download(page, "Annotated video").save_as(saved)
    page.close()
    recording = next((data / "uploads").glob("*.mp4"))
    with av.open(str(recording)) as source, av.open(str(saved)) as made:
        source_frames = sum(1 for _ in source.decode(video=0))
        assert sum(1 for _ in made.decode(video=0)) == source_frames  # every frame, not the analysed ones
        assert bool(made.streams.audio) == bool(source.streams.audio)  # with the recording's sound


def _download(page, label: str):
    """Click a download link (it opens a tab that becomes the download) and return the download."""
    found = []

    def catch(download) -> None:
        found.append(download)

    def watch(opened) -> None:  # the download starts in the new tab at once: listen from its first event
        opened.on("download", catch)

    page.on("download", catch)
    page.context.on("page", watch)
    try:
        page.get_by_role("link", name=label).click(timeout=60_000)
        for _ in range(600):
            if found:
                return found[0]
            page.wait_for_timeout(100)
    finally:
        page.remove_listener("download", catch)
        page.context.remove_listener("page", watch)
    raise AssertionError(f"no download from {label}")


def test_five_downloads_clicked_in_quick_succession_all_arrive_and_are_audited_once_each(browser, analysed) -> None:
    """The probe clicked five download buttons 1.5 s apart: four arrived, the fifth spun forever, all five
    audited."""
    url, session_id, data = analysed
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    page.goto(f"{url}/reports?session={session_id}")
    _player(page)
    store = SessionStore(f"sqlite:///{data / 'sessions.db'}")
    before = len(store.audit())
    arrived = []
    for label in ["Detections (CSV)", "Timeline (CSV)", "Summary (JSON)", "Detections (CSV)"]:
        download = _download(page, label)
        arrived.append((download.suggested_filename, Path(download.path()).stat().st_size))
        page.wait_for_timeout(1500)
    with page.expect_download(timeout=60_000) as report:
        page.get_by_role("button", name="Printable report (HTML)").click()
    arrived.append((report.value.suggested_filename, Path(report.value.path()).stat().st_size))
    page.close()
    assert [name for name, _size in arrived[:4]] == [
        "Video_call_detections.csv", "Video_call_timeline.csv", "Video_call_summary.json", "Video_call_detections.csv"
    ]  # fmt: skip
    assert arrived[4][0] == "Video_call_report.html" and all(size > 0 for _name, size in arrived)
    audit = store.audit().iloc[: len(store.audit()) - before]
    store.engine.dispose()
    assert sorted(audit["detail"]) == sorted(["detections.csv", "timeline.csv", "summary.json", "detections.csv",
                                              "Video_call_report.html"])  # fmt: skip


def _get(url: str, headers: dict | None = None) -> tuple[int, bytes, object]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def test_the_routes_serve_ranges_refuse_other_links_and_forget_a_deleted_session(browser, analysed) -> None:
    url, session_id, data = analysed
    page = browser.new_page()
    page.goto(f"{url}/reports?session={session_id}")
    src = _player(page).locator("video").get_attribute("src")  # the link the page signed for this viewer
    export = page.get_by_role("link", name="Timeline (CSV)").get_attribute("href")
    page.close()
    status, body, headers = _get(f"{url}{export}")
    assert status == 200 and body.startswith(b"time_s") and "attachment" in headers.get("Content-Disposition")
    token = src.rsplit("/", 1)[1]
    status, body, headers = _get(f"{url}/api/recording/{token}", {"Range": "bytes=0-99"})
    assert status == 206 and len(body) == 100 and headers.get("Content-Range").startswith("bytes 0-99/")
    assert headers.get("Cache-Control") == "private, no-store"
    status, body, _ = _get(f"{url}/api/overlay/{token}")
    boxes = json.loads(body)
    assert status == 200 and len(boxes["times"]) > 5 and len(boxes["rows"]) == 7 * boxes["starts"][-1]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert _get(f"{url}/api/recording/{forged}")[0] == 403
    assert _get(f"{url}/api/recording/{media_routes.grant_for(session_id, None)}")[0] == 403  # not this server's key
    store = SessionStore(f"sqlite:///{data / 'sessions.db'}")
    store.delete(session_id)
    store.engine.dispose()
    assert _get(f"{url}/api/recording/{token}")[0] == 404  # deleted: gone at once, even before its file goes
    assert _get(f"{url}/api/overlay/{token}")[0] == 404
    status, body, _ = _get(f"{url}{export}")
    assert status == 404 and b"deleted" in body  # says why
