"""Altair charts (fer.app.charts): fixed colours, lesson time as m:ss on the axis, markers, stacking, strip height.

What a person sees is checked on the chart drawn to SVG by Vega itself (vl-convert), not only on the spec.
"""

from __future__ import annotations

import re

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert

from fer.app.charts import (
    EXPRESSION_COLORS,
    GROUP_COLORS,
    MARKER_COLOR,
    NOT_READ_COLOR,
    Y_AXIS_WIDTH,
    expressions_over_time,
    faces_over_time,
    live_trend,
    overall_distribution,
    track_strip,
)
from fer.app.report import NOT_READ, coverage, overall_shares, resample, stacked, track_cells
from fer.labels import CLASSES
from tests.app.test_report import face_rows, timeline_frame


def _bars(bins: int = 60) -> pd.DataFrame:
    shares = np.random.default_rng(bins).dirichlet(np.ones(len(CLASSES)), size=bins)
    faces = np.where(np.arange(bins) % 3 == 1, 0, 2)  # every third bin: nobody
    return resample(timeline_frame(shares, faces), 1.0)


def _svg(chart: alt.TopLevelMixin) -> str:
    return vl_convert.vegalite_to_svg(chart.properties(width=800).to_dict())


def _axis_labels(svg: str) -> list[str]:
    return re.findall(r">(\d+(?::\d\d)+)</text>", svg)


def _data(spec: dict, layer: int = 0) -> list[dict]:
    """A layer's rows (Altair lifts the data of a chart with one dataset to the top)."""
    data = spec["layer"][layer].get("data") or spec["data"]
    return spec["datasets"][data["name"]]


@pytest.mark.parametrize(
    ("duration", "expected"),
    [(300, ["0:00", "0:30", "1:00", "5:00"]), (3 * 3600, ["0:00:00", "0:30:00", "1:00:00", "3:00:00"])],
)
def test_the_time_axis_reads_as_clock_time_on_round_ticks(duration: int, expected: list[str]) -> None:
    bars = resample(timeline_frame(np.tile(np.eye(len(CLASSES))[3], (duration, 1))), 60.0)
    labels = _axis_labels(_svg(expressions_over_time(stacked(bars), duration)))
    assert set(expected) <= set(labels), labels
    assert len(set(labels)) <= 11  # at most ten round steps plus the end


def test_seven_expressions_and_groups_use_their_fixed_colours_with_tooltips() -> None:
    for grouped, palette in ((False, EXPRESSION_COLORS), (True, GROUP_COLORS)):
        spec = expressions_over_time(stacked(_bars(), grouped), 60, grouped).to_dict()
        encoding = spec["layer"][0]["encoding"]
        assert dict(zip(encoding["color"]["scale"]["domain"], encoding["color"]["scale"]["range"], strict=True)) == {
            name: palette[name] for name in palette
        }
        assert {t["field"] for t in encoding["tooltip"]} >= {"at", "expression", "share"}
        svg = _svg(expressions_over_time(stacked(_bars(), grouped), 60, grouped))
        assert all(colour in svg for colour in palette.values())


def test_bars_are_stacked_to_one_and_empty_bars_are_gaps() -> None:
    rows = pd.DataFrame(_data(expressions_over_time(stacked(_bars()), 60).to_dict()))
    assert set(rows["time_s"]) == {t for t in range(60) if t % 3 != 1}
    assert np.allclose(rows.groupby("time_s")["top"].max(), 1.0)
    assert (rows["at"].str.match(r"^\d+:\d\d$")).all()  # tooltips say m:ss too


def test_markers_are_labelled_lines_on_the_main_chart_and_lines_below() -> None:
    markers = pd.DataFrame({"time_s": [20.0], "label": ["quiz"]})
    main = _svg(expressions_over_time(stacked(_bars()), 60, markers=markers))
    assert ">quiz</text>" in main and MARKER_COLOR in main
    below = _svg(faces_over_time(coverage(_bars()), 60, markers=markers))
    assert ">quiz</text>" not in below and MARKER_COLOR in below


def test_faces_present_stack_read_and_not_read_with_whole_number_ticks() -> None:
    timeline = timeline_frame(np.tile(np.eye(len(CLASSES))[3], (4, 1)), faces=[1, 2, 1, 1])
    timeline["faces_readable"] = [1, 1, 0, 1]
    chart = faces_over_time(coverage(resample(timeline, 1.0)), 4)
    spec = chart.to_dict()
    assert spec["layer"][0]["encoding"]["y"]["axis"]["tickMinStep"] == 1
    rows = pd.DataFrame(_data(spec))
    per_status = rows.pivot_table(index="time_s", columns="status", values="faces", aggfunc="sum")
    assert per_status["read"].tolist() == [1, 1, 0, 1] and per_status[NOT_READ].tolist() == [0, 1, 1, 0]
    labels = re.findall(r">([\d.]+)</text>", _svg(chart))
    assert "0.5" not in labels and "1.5" not in labels  # one face is "1", never "0.5"
    assert NOT_READ_COLOR in _svg(chart)


def test_charts_of_one_session_share_the_y_axis_width_so_their_time_axes_line_up() -> None:
    specs = [
        expressions_over_time(stacked(_bars()), 60).to_dict()["layer"][0],
        faces_over_time(coverage(_bars()), 60).to_dict()["layer"][0],
        track_strip(track_cells(face_rows([(0.5, 1, "happy", 0.8)]), 60.0), 60).to_dict()["layer"][0],
    ]
    for spec in specs:
        axis = spec["encoding"]["y"]["axis"]
        assert axis["minExtent"] == axis["maxExtent"] == Y_AXIS_WIDTH


def test_no_bar_runs_past_the_sessions_end() -> None:
    """Bars are whole steps: the last one of a 0:16 session ends at 0:20, and was drawn past the frame (the
    printable report showed it); the axis stops at the session's end and every bar layer is clipped to it."""
    bars = _bars()
    duration = float(bars["end_s"].max()) - 3.0
    charts = [
        expressions_over_time(stacked(bars), duration),
        faces_over_time(coverage(bars), duration),
        track_strip(track_cells(face_rows([(0.5, 1, "happy", 0.8)]), duration), duration),
    ]
    for chart in charts:
        spec = chart.to_dict()["layer"][0]
        assert spec["mark"]["clip"] is True
        assert spec["encoding"]["x"]["scale"]["domain"] == [0, duration]


def test_track_strip_rows_thin_out_so_many_faces_stay_about_600_px() -> None:
    def cells(tracks: int) -> pd.DataFrame:
        rows = [(t * 0.5, k, CLASSES[(k + t) % 7], 0.8) for k in range(tracks) for t in range(6)]
        return track_cells(face_rows(rows), duration_s=3.0)

    steps = {n: track_strip(cells(n), 3.0).to_dict()["height"]["step"] for n in (1, 5, 40, 100)}
    assert steps[1] == steps[5] == 28
    assert steps[40] * 40 <= 600 and steps[100] == 6  # thinner rows, never invisible ones


def test_overall_distribution_keeps_the_expression_colours_and_names_every_expression() -> None:
    chart = overall_distribution(overall_shares({"class_shares": {"sad": 1.0}}))
    assert chart.to_dict()["encoding"]["color"]["scale"]["range"] == [EXPRESSION_COLORS[c] for c in CLASSES]
    assert chart.to_dict()["encoding"]["y"]["axis"]["labelOverlap"] is False  # no name dropped for lack of room
    svg = vl_convert.vegalite_to_svg(chart.properties(width=220).to_dict())  # as narrow as the live panel
    assert all(f">{name}</text>" in svg for name in CLASSES)


def test_the_live_trend_reads_in_minutes_and_seconds_ago() -> None:
    trend = pd.DataFrame({"time_s": [-60.0, -30.0, 0.0], "expression": ["happy"] * 3, "share": [0.5, 0.6, 0.7]})
    svg = _svg(live_trend(trend))
    assert all(f">{label}</text>" in svg for label in ("1:00 ago", "0:45 ago", "0:15 ago", "now"))


def test_the_face_strip_shows_the_lesson_markers_too() -> None:
    cells = track_cells(face_rows([(t, k, "happy", 0.8) for k in (1, 2) for t in range(60)]), 60.0)
    svg = _svg(track_strip(cells, 60, pd.DataFrame({"time_s": [30.0], "label": ["quiz"]})))
    assert MARKER_COLOR in svg and ">0:30</text>" in svg
