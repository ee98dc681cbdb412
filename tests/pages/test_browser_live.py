"""Live's browser mode in a real browser (Debian chromium, Playwright), with chromium's fake camera and a shared tab.

The camera is analysed in the browser: boxes drawn on the face, the server's panel sees it, no RTCPeerConnection is
ever opened (only the component's value messages leave), stop saves a session that opens in Reports like any other.
A shared tab playing a call gallery is analysed too. Hostile numbers sent as the component's value (NaN, boxes
outside the frame, a huge batch, another session's key) are refused with a message, and nothing of them is stored.
Screenshots (screenshots/live_browser_*.png, light and dark): look at them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest

from fer.sessions.store import SessionStore
from tests.app_server import running_app
from tests.conftest import CHROMIUM, portrait
from tests.pages.fake_camera import fake_camera_browser

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
COMPONENT = "iframe[title='fer.app.browser_live.fer_live']"
# Every RTCPeerConnection a page (or any frame in it) makes is counted: browser mode must make none.
COUNT_PEERS = """
window.__peers = 0;
const RealPeer = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) { window.__peers += 1; return new RealPeer(...args); };
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("live_browser_data")
    with running_app(data) as url:
        yield url, data


def _stored(data: Path) -> list:
    store = SessionStore(f"sqlite:///{data / 'sessions.db'}")
    try:
        return store.list()
    finally:
        store.engine.dispose()


def _open_live(page, url: str, session_name: str, dark: bool = False):
    page.add_init_script(COUNT_PEERS)
    page.goto(f"{url}/live" + ("?embed=true&embed_options=dark_theme" if dark else ""))
    name_box = page.get_by_label("Session name")
    name_box.fill(session_name)
    name_box.press("Enter")
    component = page.frame_locator(COMPONENT)
    component.get_by_text("Ready.").wait_for(timeout=90_000)  # the models loaded into the browser
    return component


def _shoot_and_save(page, component, screenshot: str) -> dict[str, str]:
    """The component's own count (frames a second, faces) now, a screenshot, then stop: the session is saved."""
    status = component.locator("#status")
    counts = {"fps": status.get_attribute("data-fps"), "faces": status.get_attribute("data-faces")}
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / screenshot))
    component.get_by_role("button", name="Stop and save").click()
    page.get_by_text("is saved").wait_for(timeout=60_000)
    return counts


def _peers(page) -> int:
    return sum(frame.evaluate("window.__peers || 0") for frame in page.frames)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_camera_is_analysed_in_the_browser_and_only_numbers_leave(
    playwright, app: tuple[str, Path], tmp_path: Path, theme: str
) -> None:
    url, data = app
    app_host = urlsplit(url).netloc
    name = f"Browser camera {theme}"
    browser = fake_camera_browser(playwright, tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 1300}, color_scheme=theme)
    component = _open_live(page, url, name, dark=theme == "dark")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("websocket", lambda socket: requests.append(socket.url))
    component.get_by_role("button", name="Start the camera").click()
    component.locator("#overlay[data-faces='1']").wait_for(timeout=60_000)  # a box drawn on the face
    metric = page.locator("[data-testid='stMetric']")
    metric.filter(has_text="Faces now").get_by_text("1", exact=True).wait_for(timeout=30_000)  # the server's panel
    page.wait_for_function(
        "() => document.querySelectorAll(\"[data-testid='stVegaLiteChart']\").length >= 2", timeout=30_000
    )
    page.wait_for_timeout(4000)
    fps = float(_shoot_and_save(page, component, f"live_browser_{theme}.png")["fps"])
    assert _peers(page) == 0  # no media track was sent anywhere
    elsewhere = [r for r in requests if urlsplit(r).scheme not in ("data", "blob") and urlsplit(r).netloc != app_host]
    assert not elsewhere  # only to the app (data: and blob: URLs stay in the browser)
    assert fps > 2  # analysed in the browser at a live rate (measured and reported by bench/browser_live.py)
    (stored,) = [s for s in _stored(data) if s.name == name]
    assert stored.source == "live" and stored.frames_analysed > 10 and stored.tracks >= 1
    page.goto(f"{url}/reports?session={stored.id}")  # opens like any other session
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for(timeout=60_000)
    assert page.get_by_text(name).count()
    browser.close()


def _send(page, value: object) -> None:
    """Post ``value`` as the component's value, from inside its frame, as a hostile page script could."""
    (frame,) = [f for f in page.frames if "fer_live" in f.url]
    frame.evaluate(
        "value => window.parent.postMessage({isStreamlitMessage: true, type: 'streamlit:setComponentValue', "
        "value: value, dataType: 'json'}, '*')",
        value,
    )


def test_hostile_numbers_are_refused_and_nothing_of_them_is_stored(
    playwright, app: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = app
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1280, "height": 1300})
    _open_live(page, url, "Hostile numbers")
    batch_key = json.loads(_component_args(page))["batch_key"]  # the key the page gave this component
    face = [100, 80, 180, 180, 0.9, *[120, 110, 160, 110, 140, 135, 125, 160, 155, 160], 120, 40, 2.0]
    face += [0.1, 0, 0, 0.7, 0.1, 0, 0.1]
    good_frame = {"t": 1000.0, "w": 640, "h": 480, "faces": [face]}
    hostile = {  # why it is refused (the message's words): the batch
        "another live session": {"key": "not-this-session", "seq": 1, "frames": [good_frame], "ended": True},
        "finite numbers": {"key": batch_key, "seq": 2, "ended": True,
                            "frames": [dict(good_frame, faces=[[None, *face[1:]]])]},
        "inside its frame": {"key": batch_key, "seq": 3, "ended": True,
                                  "frames": [dict(good_frame, faces=[[100, 80, 9000, 180, *face[4:]]])]},
        "at most 90 frames": {"key": batch_key, "seq": 4, "ended": True,
                       "frames": [dict(good_frame, t=1000 + i / 100) for i in range(5000)]},
        "exactly the fields": {"key": batch_key, "seq": 5, "frames": [good_frame], "ended": True,
                             "owner": "another.teacher@school.org"},
    }  # fmt: skip
    for why, value in hostile.items():
        _send(page, value)
        page.get_by_text("were refused").filter(has_text=why).wait_for(timeout=30_000)
        assert page.get_by_text("nothing of them was analysed or stored").count()
        page.wait_for_timeout(1000)  # the run that showed it ends: a value sent during a run may be taken for stale
    assert not [s for s in _stored(data) if s.name == "Hostile numbers"]
    browser.close()


def _component_args(page) -> str:
    """The component's render arguments, as the page sent them (read back by the component's script)."""
    (frame,) = [f for f in page.frames if "fer_live" in f.url]
    return frame.evaluate("() => JSON.stringify(args)")


def _gallery_page(tmp_path: Path) -> Path:
    """A call gallery in a tab: twelve faces (the portrait at four sizes) in a 4x3 grid, titled like a call."""
    face = portrait()
    gallery = np.full((600, 800, 3), 30, np.uint8)
    for slot in range(12):
        row, column = divmod(slot, 4)
        width = (120, 150, 170, 190)[slot % 4]
        tile = cv2.resize(face, (width, round(width * 600 / 512)), interpolation=cv2.INTER_AREA)[:190, :]
        gallery[row * 200 + 5 : row * 200 + 5 + tile.shape[0], column * 200 + 5 : column * 200 + 5 + width] = tile
    cv2.imwrite(str(tmp_path / "gallery.png"), gallery)
    page = tmp_path / "gallery.html"
    page.write_text(
        "<!doctype html><html><head><title>Call gallery</title></head><body style='margin:0;background:#000'>"
        "<img src='gallery.png' style='width:100vw;height:100vh;object-fit:contain'></body></html>"
    )
    return page


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_shared_tab_with_a_call_gallery_is_analysed(
    playwright, app: tuple[str, Path], tmp_path: Path, theme: str
) -> None:
    """getDisplayMedia picks the tab by its title (chromium's auto-select flag stands in for the teacher's pick)."""
    url, data = app
    gallery = _gallery_page(tmp_path)
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--auto-select-tab-capture-source-by-title=Call gallery"],
    )
    tab = browser.new_context(viewport={"width": 800, "height": 600}).new_page()  # the call's window
    tab.goto(gallery.as_uri())
    page = browser.new_context(viewport={"width": 1280, "height": 1300}, color_scheme=theme).new_page()
    name = f"Shared gallery {theme}"
    component = _open_live(page, url, name, dark=theme == "dark")
    component.get_by_role("button", name="Share a window, tab or screen").click()
    component.locator("#status[data-faces]").wait_for(timeout=60_000)
    page.wait_for_timeout(6000)
    faces = int(_shoot_and_save(page, component, f"live_browser_gallery_{theme}.png")["faces"])
    assert faces >= 11  # of the twelve
    assert _peers(page) == 0
    (stored,) = [s for s in _stored(data) if s.name == name]
    assert stored.tracks >= 11
    browser.close()
