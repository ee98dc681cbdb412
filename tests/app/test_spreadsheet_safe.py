"""Cells that a spreadsheet would run as formulas are neutralised in every table the app shows (their toolbar
downloads them as CSV), and the CSV files an analysis writes hold none to begin with."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from fer.app.spreadsheet_safe import FORMULA_STARTS, safe_cell, safe_table
from fer.sessions.store import SessionStore
from tests.synthetic import scripted_session

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ["@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://x.example","y")', "+1+1", "-2+3", "\tx", "\rx"]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_cell_starting_like_a_formula_gets_an_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text


def test_ordinary_text_and_numbers_are_left_as_they_are() -> None:
    table = safe_table([{"session": "Maths, period 2", "faces": -3, "share": -0.5, "note": None}])
    assert table.iloc[0].tolist()[:3] == ["Maths, period 2", -3, -0.5] and pd.isna(table.iloc[0]["note"])


def test_home_tables_neutralise_a_hostile_session_name_and_the_audit_line_of_a_deleted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("FER_DATABASE_URL", raising=False)
    store = SessionStore()
    scripted_session(store, faces=2, seconds=60, name=HOSTILE[0])
    deleted = scripted_session(store, faces=2, seconds=60, name=HOSTILE[1])
    store.record("local", "delete", deleted, HOSTILE[1])
    store.delete(deleted)
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not app.exception
    recent, audit = app.dataframe[0].value, app.dataframe[1].value
    assert recent["session"].tolist() == ["'" + HOSTILE[0]]
    assert "'" + HOSTILE[1] in audit["detail"].tolist()


def test_the_csv_files_an_analysis_writes_hold_no_formula(face_clip: Path, tmp_path: Path) -> None:
    from fer.engine.analyze import analyze_video

    analyze_video(face_clip, tmp_path / "out")
    files = sorted((tmp_path / "out").glob("*.csv"))
    assert {f.name for f in files} >= {"detections.csv", "timeline.csv"}
    for path in files:
        with path.open(newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    if cell.startswith(FORMULA_STARTS):
                        float(cell)  # only a number may start with '-' or '+': anything else fails here
