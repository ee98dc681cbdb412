"""Staged outputs: results appear complete or not at all, and a killed run's leftovers are swept."""

import os
import time
from pathlib import Path

import pandas as pd
import pytest

from fer.engine.outputs import (
    DETECTION_COLUMNS,
    STALE_STAGING_S,
    STATIC_COLUMN,
    SUMMARY_JSON,
    mark_static_rows,
    staged_outputs,
)


def _leftover(out: Path, name: str, age_s: float) -> Path:
    folder = out / name
    folder.mkdir(parents=True)
    (folder / "detections.csv").write_text("half written")
    stamp = time.time() - age_s
    os.utime(folder, (stamp, stamp))
    return folder


def test_a_killed_runs_staging_folder_is_swept_once_stale(tmp_path: Path) -> None:
    old = _leftover(tmp_path, ".partial-dead0001", STALE_STAGING_S + 60)
    recent = _leftover(tmp_path, ".partial-live0001", 60)  # may belong to an analysis still running
    with staged_outputs(tmp_path) as staging:
        (staging / SUMMARY_JSON).write_text("{}")
    assert not old.exists() and recent.is_dir()
    assert (tmp_path / SUMMARY_JSON).read_text() == "{}"


def test_a_failure_leaves_the_previous_results(tmp_path: Path) -> None:
    (tmp_path / SUMMARY_JSON).write_text('{"old": true}')
    with pytest.raises(RuntimeError), staged_outputs(tmp_path) as staging:
        (staging / SUMMARY_JSON).write_text("{}")
        raise RuntimeError("analysis failed")
    assert (tmp_path / SUMMARY_JSON).read_text() == '{"old": true}'
    assert not list(tmp_path.glob(".partial-*"))


def test_rows_of_tracks_taken_for_pictures_are_marked_static(tmp_path: Path) -> None:
    path = tmp_path / "detections.csv"
    pd.DataFrame(
        [
            [frame, frame / 10, track, 10, 10, 40, 40, 0.9, *[""] * 7, "", 0, "small"]
            for frame in range(3)
            for track in (1, 2)
        ],
        columns=DETECTION_COLUMNS,
    ).to_csv(path, index=False)
    mark_static_rows(path, {2})
    marked = pd.read_csv(path)
    assert list(marked.columns) == [*DETECTION_COLUMNS, STATIC_COLUMN]
    assert marked.groupby("track_id")[STATIC_COLUMN].unique().to_dict() == {1: [0], 2: [1]}
    assert len(marked) == 6 and not list(tmp_path.glob("*.marking"))
