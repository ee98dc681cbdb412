"""Staged outputs: results appear complete or not at all, and a killed run's leftovers are swept."""

import os
import time
from pathlib import Path

import pytest

from fer.engine.outputs import STALE_STAGING_S, SUMMARY_JSON, staged_outputs


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
