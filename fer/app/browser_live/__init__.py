"""Live's browser mode: the teacher's browser analyses the camera or a shared window itself, and sends only numbers.

A Streamlit component in plain JavaScript (``frontend/``): onnxruntime-web (WebAssembly, committed in
``frontend/vendor/``, nothing fetched from elsewhere) runs the shipped CenterFace and expression networks, which the
server serves (``fer.app.model_routes``). Its value is a batch of face rows about once a second
(``fer.engine.observations``); the page hands it to the live processor, which does the rest as in server mode. It
draws faces with the report player's ``overlay.js`` (loaded from that component's folder, so one drawing code).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import streamlit.components.v1 as components

from fer.app.model_routes import MODEL_ROUTE, SERVED_MODELS
from fer.app.player import COLORS, UNREAD_HEX  # also registers the player component, whose overlay.js is loaded
from fer.engine.classifier import EmotionClassifier
from fer.engine.detection import CENTERFACE_PATH, NMS_IOU
from fer.engine.pipeline import AnalysisSettings
from fer.engine.readability import ReadabilityConfig
from fer.labels import CLASSES

_component = components.declare_component("fer_live", path=str(Path(__file__).parent / "frontend"))


def browser_live(
    *,
    batch_key: str,
    ack: float | None,
    classifier: EmotionClassifier,
    settings: AnalysisSettings,
    readability: ReadabilityConfig,
    key: str,
) -> object:
    """The component; returns its newest batch (a dict to check with ``parse_batch``) or None before any.

    ``batch_key`` is what the component must send with every batch; ``ack`` the browser time of the last frame the
    server analysed (the component drops frames up to it, and sends the rest again); ``classifier``, ``settings`` and
    ``readability`` are the live engine's, so the browser reads and draws faces by the same numbers."""
    (model,) = classifier.model_names
    if model not in SERVED_MODELS:
        raise ValueError(f"browser mode runs the shipped fast network, not {model}")
    return _component(
        key=key,
        default=None,
        batch_key=batch_key,
        ack=ack,
        detector_url=MODEL_ROUTE + CENTERFACE_PATH.name,
        classifier_url=MODEL_ROUTE + model,
        threshold=settings.threshold,
        nms_iou=NMS_IOU,
        margin=settings.crop_margin,
        temperature=classifier.temperature,
        readability=asdict(readability),
        classes=list(CLASSES),
        colors=COLORS,
        unread_color=UNREAD_HEX,
    )
