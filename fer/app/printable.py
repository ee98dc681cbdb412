"""A printable report: one self-contained HTML file (summary, headline numbers, charts as inline SVG, moments and
markers) for a staff meeting. No face image, no script, nothing fetched when it is opened: it prints as it shows.

The charts are drawn to SVG on the server by vl-convert (Vega's own renderer, bundled in the wheel, no browser).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import altair as alt
import pandas as pd
import vl_convert

from fer.app.clock import clock

CHART_WIDTH = 860  # px: an A4 page's text width at 96 dpi

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; max-width: 900px;
       margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.meta { color: #57606a; } .numbers { display: flex; gap: 2.5em; margin: 1em 0; }
.numbers div { font-size: 0.85em; color: #57606a; } .numbers b { display: block; font-size: 1.6em; color: #1f2328; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
td, th { border-bottom: 1px solid #d0d7de; padding: 0.35em 0.5em; text-align: left; vertical-align: top; }
.chart { margin: 0.5em 0 1em; break-inside: avoid; } .note { color: #57606a; font-size: 0.85em; }
@media print { body { margin: 0; } h2 { break-after: avoid; } }
"""


@dataclass(frozen=True)
class PrintableReport:
    title: str
    meta: str  # when and what, plain text
    summary: str  # the opening paragraph, plain text
    numbers: list[tuple[str, str]]  # (label, value) headline numbers
    charts: list[tuple[str, alt.TopLevelMixin]]  # (heading, chart)
    moments: pd.DataFrame  # time, description
    markers: pd.DataFrame  # time_s, label
    note: str  # the wording and privacy note printed at the foot


def chart_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an inline SVG at the printable width (no interactivity: a selection is only drawn)."""
    spec = _with_inline_data(chart.properties(width=CHART_WIDTH)).to_dict()
    return vl_convert.vegalite_to_svg(spec)


def _with_inline_data(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """A copy whose DataFrames are plain values. Altair passes a DataFrame through its process-wide data
    transformer, which Streamlit switches while another session draws a chart: a report built then came out with
    empty layers (seen in the browser test). Values are never transformed."""
    copy = chart.copy(deep=True)
    for part in [copy, *getattr(copy, "layer", [])]:
        if isinstance(part.data, pd.DataFrame):
            part.data = alt.InlineData(values=json.loads(part.data.to_json(orient="records")))
    return copy


def to_html(printable: PrintableReport) -> str:
    """The whole report as one HTML document."""
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(printable.title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(printable.title)}</h1><p class='meta'>{esc(printable.meta)}</p>",
        f"<p>{esc(printable.summary)}</p>",
        "<div class='numbers'>",
        *(f"<div><b>{esc(value)}</b>{esc(label)}</div>" for label, value in printable.numbers),
        "</div>",
    ]
    for heading, chart in printable.charts:
        parts.append(f"<h2>{esc(heading)}</h2><div class='chart'>{chart_svg(chart)}</div>")
    parts.append("<h2>Notable moments</h2>")
    if printable.moments.empty:
        parts.append("<p>No sudden, sustained change in the observed expressions.</p>")
    else:
        rows = "".join(
            f"<tr><td>{esc(row.time)}</td><td>{esc(row.description)}</td></tr>"
            for row in printable.moments.itertuples()
        )
        parts.append(f"<table><tr><th>Time</th><th>What changed</th></tr>{rows}</table>")
    if not printable.markers.empty:
        rows = "".join(
            f"<tr><td>{esc(clock(row.time_s))}</td><td>{esc(row.label)}</td></tr>"
            for row in printable.markers.itertuples()
        )
        parts.append(f"<h2>Lesson markers</h2><table><tr><th>Time</th><th>Marker</th></tr>{rows}</table>")
    parts.append(f"<p class='note'>{esc(printable.note)}</p></body></html>")
    return "".join(parts)
