"""Tables the app shows are also files teachers open: Streamlit's table toolbar downloads them as CSV, and a spreadsheet
runs a cell that starts like a formula (a session renamed ``=HYPERLINK(...)`` or ``@SUM(...)``). Such text cells get
a leading apostrophe, as OWASP advises: shown as typed, never run. Numbers stay numbers."""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet shows it but never evaluates it."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def safe_table(table: pd.DataFrame | list[dict]) -> pd.DataFrame:
    """A copy of ``table`` (or of its rows) with every text cell made safe."""
    frame = pd.DataFrame(table)
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].map(safe_cell)
    return frame
