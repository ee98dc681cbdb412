"""Live's browser mode, measured in headless Debian chromium on this machine (the app's server beside it).

    python bench/browser_live.py [--seconds 40]

camera  - chromium's fake camera filming the shared smiling_woman clip at 640x480 (one face): analysed frames a
          second in the browser (the component's own count, sampled every 2 s; median).
gallery - a tab playing the gallery benchmark clip (bench/video.py build_gallery: 12 FER2013 PublicTest faces in a
          4x3 call gallery, 800x600, new faces every 3 s), shared with getDisplayMedia (chromium picks the tab by its
          title). Analysed frames a second; faces found per frame (of 12); and agreement with the server: every
          batch the browser sent is replayed through the server's engine (``LiveProcessor.process_observed``, what
          the app did with it) and compared, tile by tile, with the server analysing the clip's own frame at the same
          moment (``FrameAnalyzer.process``, live settings): the share of face rows read by both whose expression
          is the same, and the share each read. Rows within 0.6 s of a face change are left out (the capture's delay).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import sync_playwright
from video import build_gallery

from fer.engine.classifier import EmotionClassifier
from fer.engine.live import LiveProcessor
from fer.engine.observations import parse_batch
from fer.engine.pipeline import FrameAnalyzer
from fer.engine.video_io import VideoReader
from fer.training.data import load_image_folder
from tests.app_server import running_app
from tests.pages.fake_camera import to_y4m

SHARED = Path(__file__).resolve().parents[2] / "shared"
CHROMIUM = "/usr/bin/chromium"
COMPONENT = "iframe[title='fer.app.browser_live.fer_live']"
SETTLE_S = 0.6
CHANGE_S = 3.0
# every batch the component sends, kept by the page that hosts it
RECORD_BATCHES = """
window.__batches = [];
window.addEventListener('message', e => {
  if (e.data && e.data.type === 'streamlit:setComponentValue') { window.__batches.push(e.data.value); }
});
"""
# the gallery tab: the video's own time against the browser's clock, and where the video sits in the tab
TAB_PAGE = """<!doctype html><html><head><title>Call gallery</title></head>
<body style="margin:0;background:#000;overflow:hidden">
<video id="v" src="gallery.mp4" autoplay muted loop playsinline style="width:100vw;height:100vh;object-fit:contain">
</video><script>
window.samples = [];
const v = document.getElementById('v');
function sample(now, meta) {
  window.samples.push([(performance.timeOrigin + now) / 1000, meta.mediaTime]);
  v.requestVideoFrameCallback(sample);
}
v.requestVideoFrameCallback(sample);
window.layout = () => {
  const r = v.getBoundingClientRect();
  const s = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
  return {left: r.left + (r.width - v.videoWidth * s) / 2, top: r.top + (r.height - v.videoHeight * s) / 2,
          scale: s, viewW: innerWidth, viewH: innerHeight}; };
</script></body></html>"""


def _open_live(page, url: str, name: str):
    page.goto(f"{url}/live")
    box = page.get_by_label("Session name")
    box.fill(name)
    box.press("Enter")
    component = page.frame_locator(COMPONENT)
    component.get_by_text("Ready.").wait_for(timeout=120_000)
    return component


def _sample_fps(component, seconds: float, page) -> list[float]:
    samples = []
    for _ in range(int(seconds // 2)):
        page.wait_for_timeout(2000)
        samples.append(float(component.locator("#status").get_attribute("data-fps") or 0))
    return samples


def bench_camera(url: str, seconds: float, folder: Path) -> dict:
    camera = to_y4m(SHARED / "videos" / "smiling_woman.mp4", folder / "camera.y4m")
    args = ["--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}"]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 1300})
        component = _open_live(page, url, "Bench camera")
        component.get_by_role("button", name="Start the camera").click()
        component.locator("#status[data-fps]").wait_for(timeout=60_000)
        fps = _sample_fps(component, seconds, page)[1:]  # the first seconds warm up
        component.get_by_role("button", name="Stop and save").click()
        browser.close()
    return {"camera_640x480_fps_median": statistics.median(fps), "fps_samples": fps}


def bench_gallery(url: str, seconds: float, folder: Path, classifier: EmotionClassifier) -> dict:
    faces = load_image_folder(SHARED / "fer2013" / "test").images
    clip = folder / "gallery.mp4"
    build_gallery(faces, clip, seconds=30, change_s=CHANGE_S, fps=25, seed=0)
    (folder / "tab.html").write_text(TAB_PAGE)
    args = ["--no-sandbox", "--autoplay-policy=no-user-gesture-required",
            "--auto-select-tab-capture-source-by-title=Call gallery"]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
        tab = browser.new_context(viewport={"width": 800, "height": 600}).new_page()  # the call, 800x600
        tab.goto((folder / "tab.html").as_uri())
        page = browser.new_context(viewport={"width": 1280, "height": 1300}).new_page()
        page.add_init_script(RECORD_BATCHES)
        component = _open_live(page, url, "Bench gallery")
        component.get_by_role("button", name="Share a window, tab or screen").click()
        component.locator("#status[data-fps]").wait_for(timeout=60_000)
        fps = _sample_fps(component, seconds, page)[1:]
        component.get_by_role("button", name="Stop and save").click()
        page.wait_for_timeout(2000)
        batches = page.evaluate("window.__batches")
        samples = np.array(tab.evaluate("window.samples"))
        layout = tab.evaluate("window.layout()")
        browser.close()
    frames = _unique_frames(batches)
    agreement = _agreement(frames, samples, layout, clip, classifier, batches[0]["key"])
    found = [len({_tile(row, frame, layout) for row in frame["faces"]} - {None}) for frame in frames]
    return {
        "gallery_fps_median": statistics.median(fps),
        "fps_samples": fps,
        "frames_analysed": len(frames),
        "faces_found_median": statistics.median(found),
        "frames_with_11_or_more_faces": round(float(np.mean(np.array(found) >= 11)), 3),
        **agreement,
    }


def _unique_frames(batches: list[dict]) -> list[dict]:
    """The frames of every batch once (a batch resends frames the server has not confirmed)."""
    frames: dict[float, dict] = {}
    for batch in batches:
        for frame in batch["frames"]:
            frames[frame["t"]] = frame
    return [frames[t] for t in sorted(frames)]


def _tile(row: list[float], frame: dict, layout: dict) -> int | None:
    """Which of the 12 tiles a face row is in (None: outside the video)."""
    x = (row[0] + row[2]) / 2 * layout["viewW"] / frame["w"]
    y = (row[1] + row[3]) / 2 * layout["viewH"] / frame["h"]
    column = int((x - layout["left"]) / layout["scale"] // 200)
    line = int((y - layout["top"]) / layout["scale"] // 200)
    return line * 4 + column if 0 <= column < 4 and 0 <= line < 3 else None


def _agreement(
    frames: list[dict], samples: np.ndarray, layout: dict, clip: Path, classifier: EmotionClassifier, key: str
) -> dict:
    """Browser-mode readings (the server's engine on the browser's numbers) against the server's own analysis."""
    settings = LiveProcessor.default_settings()
    replay = FrameAnalyzer(classifier, settings)  # what the app's live processor ran, on the browser's clock
    browser_rows = []  # (clip time, tile, label or -1)
    for frame in frames:
        (observed,) = parse_batch({"key": key, "seq": 0, "frames": [frame], "ended": False}, key).frames
        faces = replay.process_observed(observed, frame["t"] - frames[0]["t"]).faces
        before = max(int(np.searchsorted(samples[:, 0], frame["t"])) - 1, 0)  # the tab's last frame by then
        media_time = samples[before, 1] + frame["t"] - samples[before, 0]
        for box, label in zip(faces.xyxy.tolist(), faces.class_index.tolist(), strict=True):
            tile = _tile(box, frame, layout)
            if tile is not None:
                browser_rows.append((media_time, tile, label))
    analyzer = FrameAnalyzer(classifier, settings)
    server = {}  # (frame index, tile) -> label
    with VideoReader(clip) as video:
        fps = video.info.fps
        for index, frame in enumerate(video.frames()):
            faces = analyzer.process(frame.image, index / fps).faces
            for box, label in zip(faces.xyxy.tolist(), faces.class_index.tolist(), strict=True):
                tile = int((box[1] + box[3]) / 2 // 200) * 4 + int((box[0] + box[2]) / 2 // 200)
                server[(index, tile)] = label
    both = same = browser_read = server_read = compared = 0
    for media_time, tile, label in browser_rows:
        if media_time % CHANGE_S < SETTLE_S or CHANGE_S - media_time % CHANGE_S < 0.1:
            continue
        reference = server.get((round(media_time * fps), tile))
        if reference is None:
            continue
        compared += 1
        browser_read += label >= 0
        server_read += reference >= 0
        if label >= 0 and reference >= 0:
            both += 1
            same += label == reference
    per_frame = np.bincount([index for index, _ in server], minlength=1)
    return {
        "server_faces_found_median": float(np.median(per_frame)),
        "rows_compared": compared,
        "read_by_browser_mode": round(browser_read / max(compared, 1), 3),
        "read_by_server": round(server_read / max(compared, 1), 3),
        "agreement_on_rows_read_by_both": round(same / max(both, 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    classifier = EmotionClassifier()
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp) / "data") as url:
        report = {"camera": bench_camera(url, args.seconds, Path(tmp))}
        report["gallery"] = bench_gallery(url, args.seconds, Path(tmp), classifier)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
