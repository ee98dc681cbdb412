"""Parity: Live's browser mode reads a frame as the server does. The component's face_engine.js runs in Debian
chromium (onnxruntime-web, WebAssembly) on the same pictures that ``fer.engine.observations.observe`` reads with the
server's code, at full size and scaled for detection (the browser resizes as cv2.INTER_AREA does); boxes,
landmarks, crop signals and probabilities must agree within tolerances set from what was measured (2026-12-04,
onnxruntime-web 1.30 against onnxruntime 1.31): boxes within 0.016 px, scores 2e-4, signals 0.003, probabilities
0.004 at most (float rounding, and OpenCV's integer path for a halved frame)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer.app.browser_live import SERVED_MODELS
from fer.engine.detection import CenterFaceDetector
from fer.engine.detections import box_iou
from fer.engine.observations import observe
from tests.conftest import CHROMIUM, portrait

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"Debian chromium not found at {CHROMIUM}")

FRONTEND = Path(__file__).resolve().parents[2] / "fer" / "app" / "browser_live" / "frontend"
HARNESS = """<!doctype html><html><body>
<script src="frontend/vendor/ort.wasm.min.js"></script><script src="frontend/face_engine.js"></script>
<script>
ort.env.wasm.numThreads = 1; ort.env.wasm.wasmPaths = new URL("frontend/vendor/", document.baseURI).href;
const frameCanvas = document.createElement("canvas");
const ready = FaceEngine.create(ort, {detectorUrl: "models/centerface.onnx", classifierUrl: "models/fer_vgg.int8.onnx",
  threshold: 0.3, nmsIou: 0.3, margin: 0.05, temperature: TEMPERATURE});
window.runEngine = async function (url, scale) {
  const engine = await ready;
  const image = new Image(); image.src = url; await image.decode();
  frameCanvas.width = image.width; frameCanvas.height = image.height;
  const context = frameCanvas.getContext("2d", {willReadFrequently: true});
  context.drawImage(image, 0, 0);
  const rgba = context.getImageData(0, 0, image.width, image.height).data;
  const faces = await engine.detect(rgba, image.width, image.height, scale);
  return await engine.read(rgba, image.width, image.height, faces);
};
</script></body></html>"""


def _pictures() -> dict[str, np.ndarray]:
    """A camera-like frame (one face, 640x480) and a call gallery (12 faces of four sizes, 800x600)."""
    face = portrait()
    camera = np.full((480, 640, 3), 70, np.uint8)
    camera[40:440, 150:491] = cv2.resize(face, (341, 400), interpolation=cv2.INTER_AREA)
    gallery = np.full((600, 800, 3), 30, np.uint8)
    for slot in range(12):
        row, column = divmod(slot, 4)
        width = (120, 150, 180, 200)[slot % 4]
        tile = cv2.resize(face, (width, round(width * 600 / 512)), interpolation=cv2.INTER_AREA)[:200, :200]
        gallery[row * 200 : row * 200 + tile.shape[0], column * 200 : column * 200 + tile.shape[1]] = tile
    return {"camera": camera, "gallery": gallery}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, classifier) -> Iterator[str]:
    root = tmp_path_factory.mktemp("engine_site")
    (root / "frontend").symlink_to(FRONTEND)
    (root / "models").mkdir()
    for name, path in SERVED_MODELS.items():
        (root / "models" / name).symlink_to(path)
    (root / "index.html").write_text(HARNESS.replace("TEMPERATURE", repr(classifier.temperature)))
    for name, picture in _pictures().items():
        cv2.imwrite(str(root / f"{name}.png"), picture)
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page(playwright, site: str):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
    page = browser.new_page()
    page.goto(f"{site}/index.html")
    yield page
    browser.close()


@pytest.mark.parametrize(("name", "scale"), [("camera", 1.0), ("camera", 0.5), ("gallery", 1.0), ("gallery", 0.6)])
def test_the_browser_reads_a_frame_as_the_server_does(page, classifier, name: str, scale: float) -> None:
    picture = _pictures()[name]
    server = np.asarray(observe(picture, CenterFaceDetector(), classifier, scale=scale)).reshape(-1, 25)
    browser = np.asarray(page.evaluate("([url, scale]) => window.runEngine(url, scale)", [f"{name}.png", scale]))
    browser = browser.reshape(-1, 25)
    assert len(server) == (1 if name == "camera" else 12)
    assert len(browser) == len(server)
    pairs = box_iou(server[:, :4], browser[:, :4]).argmax(axis=1)
    browser = browser[pairs]
    width = server[:, 2] - server[:, 0]
    assert (np.abs(server[:, :4] - browser[:, :4]).max(axis=1) / width).max() <= 0.001  # of the face's width
    assert (np.abs(server[:, 5:15] - browser[:, 5:15]).max(axis=1) / width).max() <= 0.001
    np.testing.assert_allclose(browser[:, 4], server[:, 4], atol=0.001)
    np.testing.assert_allclose(browser[:, 15:18], server[:, 15:18], atol=0.01)  # grey levels; sharpness
    np.testing.assert_allclose(browser[:, 18:], server[:, 18:], atol=0.01)
    assert (server[:, 18:].argmax(axis=1) == browser[:, 18:].argmax(axis=1)).all()
