"""Pages driven through Streamlit's AppTest (no browser)."""

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from fer.model_card import shipped_model_summary
from fer.paths import METRICS_PATH

ROOT = Path(__file__).resolve().parents[1]


def test_home_page_renders_the_notices_and_measured_model_numbers() -> None:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    text = " ".join(m.value for m in app.markdown) + " ".join(w.value for w in app.warning)
    assert "not feelings" in text
    assert "No face images are stored" in text
    assert "EU AI Act" in text and "education institutions" in text
    metrics = json.loads(METRICS_PATH.read_text())
    shown = {m.label: m.value for m in app.metric}
    assert shown["Test accuracy (FER2013 PublicTest)"] == f"{metrics['accuracy']:.1%}"
    assert shown["Test images"] == f"{metrics['n']:,}"


def test_summary_survives_a_missing_or_broken_metrics_file(tmp_path: Path) -> None:
    assert shipped_model_summary(tmp_path / "missing.json") is None
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert shipped_model_summary(broken) is None
