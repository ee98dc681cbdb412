"""Many recordings in one run: fer.engine.batch and ``fer analyze A B … --out DIR`` / a folder."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from fer.cli import main
from fer.engine.batch import plan, recordings
from fer.engine.outputs import ANNOTATED_VIDEO, DETECTIONS_CSV, SUMMARY_JSON, TIMELINE_CSV


def test_each_recording_gets_a_folder_named_by_its_stem_without_clashes(tmp_path: Path) -> None:
    items = plan([Path("a/maths.mp4"), Path("b/maths.mov"), Path("b/Maths.mkv"), Path("c/art.mp4")], tmp_path)
    assert [item.out_dir.name for item in items] == ["maths", "maths-2", "Maths-3", "art"]


def test_a_folder_gives_its_video_files_in_name_order(tmp_path: Path) -> None:
    for name in ("b.mp4", "a.MOV", "notes.txt", "c.webm"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.mp4").mkdir()
    assert [p.name for p in recordings([tmp_path])] == ["a.MOV", "b.mp4", "c.webm"]


def test_a_batch_analyses_every_good_file_and_reports_the_bad_one(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = shutil.copy(face_clip, tmp_path / "period2.mp4")
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    out = tmp_path / "results"
    assert main(["analyze", str(face_clip), str(bad), str(second), "--out", str(out), "--no-video"]) == 0
    printed = capsys.readouterr()
    for stem in ("face", "period2"):
        files = {p.name for p in (out / stem).iterdir()}
        assert files == {DETECTIONS_CSV, TIMELINE_CSV, SUMMARY_JSON}
        assert json.loads((out / stem / SUMMARY_JSON).read_text())["tracks"] == 1
    assert not (out / "broken").exists()  # nothing half-written for the file that failed
    assert re.search(r"^broken\.mp4 +skipped +broken\.mp4: not a video file", printed.out, re.MULTILINE)
    assert "error: broken.mp4: not a video file" in printed.err
    assert "2 of 3 recordings analysed" in printed.out


def test_a_folder_of_recordings_with_the_annotated_videos(face_clip: Path, tmp_path: Path) -> None:
    folder = tmp_path / "term"
    folder.mkdir()
    shutil.copy(face_clip, folder / "monday.mp4")
    shutil.copy(face_clip, folder / "tuesday.mp4")
    assert main(["analyze", str(folder), "--out", str(tmp_path / "out"), "--every", "2"]) == 0
    assert (tmp_path / "out" / "monday" / ANNOTATED_VIDEO).is_file()
    assert (tmp_path / "out" / "tuesday" / ANNOTATED_VIDEO).is_file()


def test_exit_status_2_only_when_no_recording_could_be_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a.mp4", "b.mp4"):
        (tmp_path / name).write_bytes(b"garbage")
    assert main(["analyze", str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"), "--out", str(tmp_path / "o")]) == 2
    assert "0 of 2 recordings analysed" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["analyze", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "no video files" in capsys.readouterr().err


def test_a_batch_on_a_local_ray(face_clip: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray is not installed (requirements-dev.txt installs it)")
    second = shutil.copy(face_clip, tmp_path / "period2.mp4")
    out = tmp_path / "results"
    try:
        status = main(["analyze", str(face_clip), str(second), "--out", str(out), "--ray", "local", "--no-video"])
    except ConnectionError as error:
        pytest.skip(f"Ray could not start: {error}")
    assert status == 0
    for stem in ("face", "period2"):
        summary = json.loads((out / stem / SUMMARY_JSON).read_text())
        assert summary["tracks"] == 1 and summary["segments"] == 1  # a 2 s clip is one segment, run on Ray


def test_the_accurate_profile_is_chosen_on_the_command_line_and_recorded(face_clip: Path, tmp_path: Path) -> None:
    import json

    out = tmp_path / "accurate"
    assert main(["analyze", str(face_clip), "--out", str(out), "--no-video", "--profile", "accurate"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["profile"] == "accurate"
