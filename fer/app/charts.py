"""Altair charts for the Reports and Analyse pages: one function per chart, data in, chart out.

One fixed colour per expression (the same in every chart), mid-tone colours
that read on light and dark themes, and tooltips with the exact values.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from fer.app.report import NOT_READ, coverage, dominant_per_bin
from fer.engine.aggregate import long_shares
from fer.labels import CLASSES

EXPRESSION_COLORS = {
    "angry": "#d62728",
    "disgust": "#2ca02c",
    "fear": "#9467bd",
    "happy": "#f2b701",
    "sad": "#1f77b4",
    "surprise": "#17becf",
    "neutral": "#8c8c8c",
}
NOT_READ_COLOR = "#d9d9d9"  # light grey on both themes: present, but no expression read
READ_COLOR = "#9c755f"  # brown: a hue no expression uses, so "read" is never taken for one
_SCALE = alt.Scale(domain=list(CLASSES), range=[EXPRESSION_COLORS[c] for c in CLASSES])
_STRIP_SCALE = alt.Scale(domain=[*CLASSES, NOT_READ], range=[*(EXPRESSION_COLORS[c] for c in CLASSES), NOT_READ_COLOR])
_COLOR = alt.Color("expression:N", title="Expression", scale=_SCALE)
_TIME = alt.X("time_s:Q", title="Time (s)")
_UNIT = alt.Scale(domain=[0, 1])


def shares_over_time(timeline: pd.DataFrame, height: int = 320) -> alt.Chart:
    """Stacked area: the share of the faces read showing each expression, per time bin (gaps: none read)."""
    return _stacked_shares(long_shares(timeline), _TIME, "time (s)", height)


def _stacked_shares(data: pd.DataFrame, x: alt.X, time_title: str, height: int) -> alt.Chart:
    """(time_s, expression, share) rows as a stacked area over ``x``."""
    return (
        alt.Chart(data, height=height)
        .mark_area()
        .encode(
            x,
            alt.Y("share:Q", title="Share of faces read", stack="zero", axis=alt.Axis(format="%"), scale=_UNIT),
            _COLOR,
            order=alt.Order("expression:N"),
            tooltip=[alt.Tooltip("time_s:Q", title=time_title), "expression:N", alt.Tooltip("share:Q", format=".0%")],
        )
    )


def dominant_timeline(timeline: pd.DataFrame, height: int = 90) -> alt.Chart:
    """One coloured cell per bin: the most common expression then."""
    data = dominant_per_bin(timeline)
    bin_s = float(timeline["time_s"].diff().median()) if len(timeline) > 1 else 1.0
    data["end_s"] = data["time_s"] + bin_s
    return (
        alt.Chart(data, height=height)
        .mark_rect()
        .encode(
            _TIME,
            alt.X2("end_s:Q"),
            y=alt.value(0),  # a rect needs a vertical extent: the full chart height
            y2=alt.value(height - 45),  # Streamlit fits axes and labels inside ``height``
            color=alt.Color("expression:N", scale=_SCALE, legend=None),  # the colours of the chart above
            tooltip=[alt.Tooltip("time_s:Q", title="time (s)"), "expression:N", alt.Tooltip("share:Q", format=".0%")],
        )
    )


def faces_over_time(timeline: pd.DataFrame, height: int = 220) -> alt.Chart:
    """Faces present per bin as one cell per second: those whose expression was read at the bottom, the faces
    present but not read in grey above them."""
    status = alt.Scale(domain=["read", NOT_READ], range=[READ_COLOR, NOT_READ_COLOR])
    most = int(timeline["faces"].max()) if len(timeline) else 0
    return (
        alt.Chart(coverage(timeline), height=height)
        .mark_rect()
        .encode(
            _TIME,
            alt.X2("end_s:Q"),
            alt.Y(
                "bottom:Q",
                title="Faces present",
                axis=alt.Axis(tickMinStep=1, format="d"),
                scale=alt.Scale(domain=[0, max(most, 1)]),
            ),
            alt.Y2("top:Q"),
            alt.Color("status:N", title="Expression", scale=status, sort=["read", NOT_READ]),
            tooltip=[alt.Tooltip("time_s:Q", title="time (s)"), "status:N", alt.Tooltip("faces:Q", title="faces")],
        )
    )


def track_strip(cells: pd.DataFrame) -> alt.Chart:
    """Track x time, each cell coloured by that face's expression then.

    Rows are sized by step (Streamlit squeezes ordinal rows of a fixed-height chart to
    hairlines): 28 px each, thinner for many faces so the strip stays about 600 px.
    """
    tracks = max(1, cells["track_id"].nunique())
    return (
        alt.Chart(cells, height=alt.Step(max(6, min(28, 600 // tracks))))
        .mark_bar(cornerRadius=0, binSpacing=0)
        .encode(
            alt.X("start_s:Q", title="Time (s)"),
            alt.X2("end_s:Q"),
            alt.Y("track_id:O", title="Face"),
            alt.Color("expression:N", scale=_STRIP_SCALE, legend=None),  # the colours of the charts above
            tooltip=[
                alt.Tooltip("track_id:O", title="face"),
                alt.Tooltip("start_s:Q", title="from (s)"),
                "expression:N",
                alt.Tooltip("confidence:Q", format=".2f"),
            ],
        )
    )


def overall_distribution(shares: pd.DataFrame, height: int = 260, title: str = "Share of face time") -> alt.Chart:
    return (
        alt.Chart(shares, height=height)
        .mark_bar()
        .encode(
            alt.X("expression:N", title=None, sort=list(CLASSES)),
            alt.Y("share:Q", title=title, axis=alt.Axis(format="%"), scale=_UNIT),
            _COLOR,
            tooltip=["expression:N", alt.Tooltip("share:Q", format=".1%")],
        )
    )


def live_trend(trend: pd.DataFrame, height: int = 240) -> alt.Chart:
    """The live panel's rolling trend: (time_s = seconds ago, expression, share) as a stacked area."""
    x = alt.X("time_s:Q", title="Seconds ago", scale=alt.Scale(domain=[-60, 0]))
    return _stacked_shares(trend, x, "seconds ago", height)
