"""Altair charts for the Reports, Analyse and Live pages: one function per chart, data in, chart out.

One fixed colour per expression (the same in every chart), mid-tone colours that read on light and dark themes,
lesson time as m:ss (h:mm:ss past an hour) on every axis, and tooltips with the exact values. Charts of one
session share the x scale and a fixed y-axis width, so they line up one above the other.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from fer.app.clock import clock, ticks
from fer.app.report import EXPRESSION_ORDER, GROUP_ORDER, NOT_READ
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
GROUP_COLORS = {"negative": "#d62728", "surprise": "#17becf", "neutral": "#8c8c8c", "positive": "#f2b701"}
NOT_READ_COLOR = "#d9d9d9"  # light grey on both themes: present, but no expression read
READ_COLOR = "#9c755f"  # brown: a hue no expression uses, so "read" is never taken for one
MARKER_COLOR = "#e377c2"  # pink: no expression uses it
Y_AXIS_WIDTH = 70  # px, the same on every chart of a session so their time axes line up
_SCALE = alt.Scale(domain=list(CLASSES), range=[EXPRESSION_COLORS[c] for c in CLASSES])
_STRIP_SCALE = alt.Scale(domain=[*CLASSES, NOT_READ], range=[*(EXPRESSION_COLORS[c] for c in CLASSES), NOT_READ_COLOR])
_COLOR = alt.Color("expression:N", title="Expression", scale=_SCALE)
_UNIT = alt.Scale(domain=[0, 1])
# legends above the plot, not beside it: every chart of a session then has the same plot width
_LEGEND = alt.Legend(orient="top", direction="horizontal", titleOrient="left")
SELECTION = "at"  # the name of the click selection on the main chart: the page reads the clicked time from it


def _clock_expression(long: bool) -> str:
    """A Vega expression printing ``datum.value`` seconds as m:ss, or h:mm:ss when ``long``."""

    def two_digits(value: str) -> str:
        return f"(({value}) < 10 ? '0' : '') + ({value})"

    seconds = two_digits("floor(datum.value) % 60")
    if long:
        return f"floor(datum.value / 3600) + ':' + {two_digits('floor(datum.value / 60) % 60')} + ':' + {seconds}"
    return f"floor(datum.value / 60) + ':' + {seconds}"


def time_axis(duration_s: float, field: str = "time_s", percent: bool = False) -> alt.X:
    """Lesson time from 0 to the end, with ticks on round clock times labelled m:ss (h:mm:ss past an hour); or,
    with ``percent``, times already given as 0-100 % of the lesson (sessions of any length side by side)."""
    if percent:
        axis = alt.Axis(values=list(range(0, 101, 10)), labelExpr="datum.value + ' %'", grid=False)
        return alt.X(f"{field}:Q", title="Share of the lesson", scale=alt.Scale(domain=[0, 100]), axis=axis)
    end = max(duration_s, 1.0)
    axis = alt.Axis(values=ticks(end), labelExpr=_clock_expression(end >= 3600), grid=False)
    return alt.X(f"{field}:Q", title="Lesson time", scale=alt.Scale(domain=[0, end], nice=False), axis=axis)


def _with_clock(data: pd.DataFrame, duration_s: float, field: str = "time_s", percent: bool = False) -> pd.DataFrame:
    """Adds ``at``: the time as the axis prints it, for tooltips."""
    if percent:
        return data.assign(at=[f"{t:.0f} %" for t in data[field]])
    long = duration_s >= 3600
    return data.assign(at=[clock(t, long) for t in data[field]])


def _or_none(markers: pd.DataFrame | None) -> pd.DataFrame:
    return markers if markers is not None else pd.DataFrame()


def _y_axis(title: str, **kwargs: object) -> alt.Axis:
    return alt.Axis(title=title, minExtent=Y_AXIS_WIDTH, maxExtent=Y_AXIS_WIDTH, **kwargs)


def _markers_layer(markers: pd.DataFrame, duration_s: float, labelled: bool, percent: bool) -> list[alt.Chart]:
    if markers.empty:
        return []
    data = _with_clock(markers[["time_s", "label"]], duration_s, percent=percent)
    base = alt.Chart(data).encode(
        time_axis(duration_s, percent=percent), tooltip=[alt.Tooltip("at:N", title="time"), "label:N"]
    )
    layers = [base.mark_rule(color=MARKER_COLOR, strokeDash=[5, 3], strokeWidth=2)]
    if labelled:
        # above the plot, where no bar hides it
        text = base.mark_text(align="left", baseline="bottom", dx=3, dy=-3, color=MARKER_COLOR, fontWeight="bold")
        layers.append(text.encode(y=alt.value(0), text="label:N"))
    return layers


def expressions_over_time(
    bars: pd.DataFrame,
    duration_s: float,
    grouped: bool = False,
    markers: pd.DataFrame | None = None,
    height: int = 300,
    percent: bool = False,
) -> alt.LayerChart:
    """The main chart: per bar, the share of the faces read showing each expression (or group), stacked in a
    fixed order; gaps where none could be read; lesson markers as labelled lines. A click selects a bar's time."""
    names = GROUP_ORDER if grouped else EXPRESSION_ORDER
    palette = GROUP_COLORS if grouped else EXPRESSION_COLORS
    scale = alt.Scale(domain=list(reversed(names)), range=[palette[n] for n in reversed(names)])
    title = "Group" if grouped else "Expression"
    click = alt.selection_point(name=SELECTION, fields=["time_s"], on="click", clear="dblclick")
    bar_layer = (
        alt.Chart(_with_clock(bars, duration_s, percent=percent))
        # a stroke in the bar's own colour hides the hairline seams between bars; clipped: a last bar longer than
        # the session (bars are whole steps) stops at its end, inside the frame
        .mark_rect(strokeWidth=0.6, clip=True)
        .encode(
            time_axis(duration_s, percent=percent),
            alt.X2("end_s:Q"),
            alt.Y("bottom:Q", axis=_y_axis("Share of faces read", format="%"), scale=_UNIT),
            alt.Y2("top:Q"),
            alt.Color("expression:N", title=title, scale=scale, legend=_LEGEND),
            alt.Stroke("expression:N", scale=scale, legend=None),
            opacity=alt.condition(click, alt.value(1.0), alt.value(0.45)),
            tooltip=[
                alt.Tooltip("at:N", title="from"),
                alt.Tooltip("expression:N", title=title.lower()),
                alt.Tooltip("share:Q", format=".0%"),
                alt.Tooltip("faces_readable:Q", title="faces read (mean)", format=".1f"),
            ],
        )
        .add_params(click)
    )
    layers = [bar_layer, *_markers_layer(_or_none(markers), duration_s, True, percent)]
    return alt.layer(*layers).properties(height=height)


def faces_over_time(
    coverage: pd.DataFrame, duration_s: float, markers: pd.DataFrame | None = None, height: int = 190
) -> alt.LayerChart:
    """Faces present per bar: those whose expression was read at the bottom, present but not read in grey above."""
    status = alt.Scale(domain=["read", NOT_READ], range=[READ_COLOR, NOT_READ_COLOR])
    most = float(coverage["top"].max()) if len(coverage) else 0.0
    chart = (
        alt.Chart(_with_clock(coverage, duration_s))
        .mark_rect(clip=True)
        .encode(
            time_axis(duration_s),
            alt.X2("end_s:Q"),
            alt.Y(
                "bottom:Q",
                axis=_y_axis("Faces", tickMinStep=1, format="d"),
                scale=alt.Scale(domain=[0, max(most, 1.0)], nice=True),
            ),
            alt.Y2("top:Q"),
            alt.Color("status:N", title="Faces", scale=status, sort=["read", NOT_READ], legend=_LEGEND),
            tooltip=[alt.Tooltip("at:N", title="from"), "status:N", alt.Tooltip("faces:Q", title="faces (mean)")],
        )
    )
    layers = [chart, *_markers_layer(_or_none(markers), duration_s, False, False)]
    return alt.layer(*layers).properties(height=height)


def track_strip(cells: pd.DataFrame, duration_s: float, markers: pd.DataFrame | None = None) -> alt.LayerChart:
    """Track x time, each cell coloured by that face's expression then.

    Rows are sized by step (Streamlit squeezes ordinal rows of a fixed-height chart to
    hairlines): 28 px each, thinner for many faces so the strip stays about 600 px.
    """
    tracks = max(1, cells["track_id"].nunique())
    strip = (
        alt.Chart(_with_clock(cells, duration_s, "start_s"))
        .mark_bar(cornerRadius=0, binSpacing=0, clip=True)
        .encode(
            time_axis(duration_s, field="start_s"),
            alt.X2("end_s:Q"),
            alt.Y("track_id:O", axis=_y_axis("Face")),
            # the colours of the charts above, with a legend: "not read" and neutral are both greys
            alt.Color("expression:N", title="Expression", scale=_STRIP_SCALE, legend=_LEGEND),
            tooltip=[
                alt.Tooltip("track_id:O", title="face"),
                alt.Tooltip("at:N", title="from"),
                "expression:N",
                alt.Tooltip("confidence:Q", format=".2f"),
            ],
        )
    )
    layers = [strip, *_markers_layer(_or_none(markers), duration_s, False, False)]
    return alt.layer(*layers).properties(height=alt.Step(max(6, min(28, 600 // tracks))))


def overall_distribution(shares: pd.DataFrame, height: int = 220, title: str = "Share of face time") -> alt.Chart:
    """(expression, share) as one bar per expression, the names down the side: each stays readable in a narrow
    column (side by side at the bottom, every other name was dropped for lack of room)."""
    return (
        alt.Chart(shares, height=height)
        .mark_bar()
        .encode(
            alt.Y("expression:N", title=None, sort=list(CLASSES), axis=alt.Axis(labelOverlap=False)),
            alt.X("share:Q", title=title, axis=alt.Axis(format="%"), scale=_UNIT),
            alt.Color("expression:N", scale=_SCALE, legend=None),  # the names are on the axis
            tooltip=["expression:N", alt.Tooltip("share:Q", format=".1%")],
        )
    )


def live_trend(trend: pd.DataFrame, height: int = 240) -> alt.Chart:
    """The live panel's rolling trend: (time_s = seconds ago, as negative numbers, expression, share) as a stacked
    area over the last minute, its axis in m:ss ago."""
    axis = alt.Axis(values=[-60, -45, -30, -15, 0], labelExpr=f"datum.value == 0 ? 'now' : {_AGO}", grid=False)
    return (
        alt.Chart(trend, height=height)
        .mark_area()
        .encode(
            alt.X("time_s:Q", title=None, scale=alt.Scale(domain=[-60, 0]), axis=axis),  # under "The last minute"
            alt.Y("share:Q", title="Share of faces read", stack="zero", axis=alt.Axis(format="%"), scale=_UNIT),
            _COLOR,
            order=alt.Order("expression:N"),
            tooltip=[
                alt.Tooltip("time_s:Q", title="seconds ago"),
                "expression:N",
                alt.Tooltip("share:Q", format=".0%"),
            ],
        )
    )


# "0:45 ago" for -45: the clock expression on the time's absolute value
_AGO = _clock_expression(False).replace("datum.value", "abs(datum.value)") + " + ' ago'"
