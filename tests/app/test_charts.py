"""Altair charts (fer.app.charts): mark, fixed expression colours, tooltips, stacking, strip height, big timelines."""

from __future__ import annotations

from collections.abc import Callable

import altair as alt
import numpy as np
import pandas as pd
import pytest

from fer.app.charts import (
    EXPRESSION_COLORS,
    NOT_READ_COLOR,
    dominant_timeline,
    faces_over_time,
    overall_distribution,
    shares_over_time,
    track_strip,
)
from fer.app.report import NOT_READ, overall_shares, track_cells
from fer.labels import CLASSES
from tests.app.test_report import face_rows, timeline_frame


def _timeline(bins: int = 6) -> pd.DataFrame:
    shares = np.random.default_rng(bins).dirichlet(np.ones(len(CLASSES)), size=bins)
    faces = np.where(np.arange(bins) % 3 == 1, 0, 2)  # every third bin is empty
    return timeline_frame(shares, faces)


def _cells(tracks: int) -> pd.DataFrame:
    rows = [(t * 0.5, track, CLASSES[(track + t) % len(CLASSES)], 0.8) for track in range(tracks) for t in range(6)]
    return track_cells(face_rows(rows), duration_s=3.0)


def _data(spec: dict) -> list[dict]:
    return spec["datasets"][spec["data"]["name"]]


CHARTS: dict[str, tuple[Callable[[], alt.Chart], str]] = {
    "shares_over_time": (lambda: shares_over_time(_timeline()), "area"),
    "dominant_timeline": (lambda: dominant_timeline(_timeline()), "rect"),
    "track_strip": (lambda: track_strip(_cells(3)), "bar"),
    "overall_distribution": (lambda: overall_distribution(overall_shares({"class_shares": {"sad": 1.0}})), "bar"),
}


@pytest.mark.parametrize("name", CHARTS)
def test_expression_charts_use_the_fixed_colours_and_have_tooltips(name: str) -> None:
    make, mark = CHARTS[name]
    spec = make().to_dict()
    assert spec["mark"]["type"] == mark
    scale = spec["encoding"]["color"]["scale"]
    assert spec["encoding"]["color"]["field"] == "expression"
    assert scale["domain"][: len(CLASSES)] == list(CLASSES)
    assert scale["range"][: len(CLASSES)] == [EXPRESSION_COLORS[c] for c in CLASSES]
    assert len(set(scale["range"])) == len(scale["range"])  # one distinct colour per expression
    if name == "track_strip":  # the strip also shows where a face was present but not read
        assert scale["domain"][len(CLASSES) :] == [NOT_READ] and scale["range"][-1] == NOT_READ_COLOR
    else:
        assert len(scale["domain"]) == len(CLASSES)
    tooltip_fields = {t["field"] for t in spec["encoding"]["tooltip"]}
    assert "expression" in tooltip_fields and len(tooltip_fields) >= 2
    assert {row["expression"] for row in _data(spec)} <= set(CLASSES)


def test_faces_over_time_stacks_faces_read_and_not_read_with_whole_number_ticks() -> None:
    timeline = _timeline().assign(faces=[1, 2, 0, 1, 1, 1], faces_readable=[1, 1, 0, 0, 1, 0])
    spec = faces_over_time(timeline).to_dict()
    assert spec["mark"]["type"] == "rect" and spec["encoding"]["y2"]["field"] == "top"
    assert spec["encoding"]["y"]["axis"]["tickMinStep"] == 1  # one face is "1", never "0.5"
    assert spec["encoding"]["color"]["scale"]["range"][1] == NOT_READ_COLOR
    rows = pd.DataFrame(_data(spec))
    per_status = rows.pivot_table(index="time_s", columns="status", values="faces", aggfunc="sum")
    assert per_status["read"].tolist() == [1, 1, 0, 0, 1, 0]
    assert per_status[NOT_READ].tolist() == [0, 1, 0, 1, 0, 1]
    not_read = rows[rows["status"] == NOT_READ]
    assert (not_read["bottom"] + not_read["faces"] == not_read["top"]).all()  # stacked on the faces read
    assert (rows["end_s"] - rows["time_s"] == 1.0).all()
    assert {t["field"] for t in spec["encoding"]["tooltip"]} == {"time_s", "status", "faces"}


def test_shares_are_stacked_and_a_one_hour_timeline_serialises() -> None:
    with alt.data_transformers.disable_max_rows():  # Streamlit ships data as Arrow, without Altair's row cap
        spec = shares_over_time(_timeline(3600)).to_dict()
    assert spec["encoding"]["y"]["stack"] == "zero"
    assert spec["encoding"]["x"]["field"] == "time_s"
    rows = _data(spec)
    assert len(rows) == 3600 * len(CLASSES)
    assert all(row["share"] is None for row in rows if row["time_s"] == 1.0)  # empty bins are gaps, not NaN


def test_dominant_timeline_draws_one_cell_per_bin_with_faces() -> None:
    timeline = _timeline(6)
    spec = dominant_timeline(timeline).to_dict()
    rows = _data(spec)
    assert [row["time_s"] for row in rows] == timeline.loc[timeline["faces"] > 0, "time_s"].tolist()
    assert all(row["end_s"] == row["time_s"] + 1.0 for row in rows)
    assert spec["encoding"]["x2"]["field"] == "end_s"


def test_track_strip_rows_thin_out_so_many_faces_stay_about_600_px() -> None:
    steps = {n: track_strip(_cells(n)).to_dict()["height"]["step"] for n in (1, 5, 40, 100)}
    assert steps[1] == steps[5] == 28
    assert steps[40] * 40 <= 600 and steps[100] == 6  # thinner rows, never invisible ones
    assert track_strip(_cells(0)).to_dict()["height"]["step"] == 28  # no tracks still draws a readable strip
