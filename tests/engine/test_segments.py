"""Segment-parallel analysis (fer.engine.segments): the single pass's result from processes on time segments."""

from __future__ import annotations

import math
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from fer.engine.analyze import AnalysisCancelled, analyze_video
from fer.engine.outputs import ANNOTATED_VIDEO, DETECTIONS_CSV
from fer.engine.pipeline import AnalysisSettings
from fer.engine.segments import analyze_in_segments, plan_segments
from fer.engine.video_io import VideoError
from tests.conftest import VIDEOS, needs_videos, portrait


def test_segments_are_equal_and_never_shorter_than_the_minimum() -> None:
    assert [(s.start_s, s.end_s) for s in plan_segments(600, 2)] == [(0, 300), (300, math.inf)]
    assert len(plan_segments(600, 8)) == 8 and len(plan_segments(100, 8)) == 1  # 100 s: one 60 s+ segment only
    assert len(plan_segments(0, 4)) == 1


@pytest.fixture(scope="module")
def crossing_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12 s clip (10 fps) whose one face slides slowly right, through the 6 s boundary."""
    import cv2

    from fer.engine.video_io import H264Writer

    face = cv2.resize(portrait(), (160, 188), interpolation=cv2.INTER_AREA)
    path = tmp_path_factory.mktemp("segments") / "crossing.mp4"
    with H264Writer(path, 10.0) as writer:
        for i in range(120):
            canvas = np.full((300, 400, 3), 90, np.uint8)
            x = 20 + round(1.5 * i)
            canvas[56:244, x : x + 160] = face
            writer.write(canvas)
    return path


def test_a_face_crossing_the_boundary_is_one_track_and_the_result_matches_a_single_pass(
    crossing_clip: Path, tmp_path: Path
) -> None:
    settings = AnalysisSettings(rate=None, every=2)
    single = analyze_video(crossing_clip, tmp_path / "single", settings)
    split = analyze_in_segments(crossing_clip, tmp_path / "split", settings, workers=2, min_segment_s=4)
    assert split.summary["segments"] == 2
    rows = pd.read_csv(tmp_path / "split" / DETECTIONS_CSV)
    single_rows = pd.read_csv(tmp_path / "single" / DETECTIONS_CSV)
    assert rows["time_s"].min() < 5.5 and rows["time_s"].max() > 6.5  # the face is on both sides of 6 s
    assert set(rows["track_id"]) == set(single_rows["track_id"]) == {1}  # one face, one track, across the boundary
    # a photo that only slides is a poster to the static-face check, in both: what matters is that they agree
    assert (split.summary["tracks"], split.summary["static_tracks"]) == (
        single.summary["tracks"],
        single.summary["static_tracks"],
    )
    assert abs(len(rows) - len(single_rows)) <= 0.02 * len(single_rows)
    assert rows["frame"].is_monotonic_increasing and rows["frame"].tolist() == single_rows["frame"].tolist()
    assert split.summary["frames_analysed"] == single.summary["frames_analysed"] == 60
    assert split.summary["duration_s"] == single.summary["duration_s"]
    with av.open(str(tmp_path / "split" / ANNOTATED_VIDEO)) as video:  # the segments' videos, joined
        assert sum(1 for _ in video.decode(video=0)) == 60
    assert not list((tmp_path / "split").glob(".*"))  # no spill files or segment videos left behind


def test_cancelling_stops_the_workers_and_writes_nothing(crossing_clip: Path, tmp_path: Path) -> None:
    def cancel(progress: object) -> None:
        raise AnalysisCancelled

    with pytest.raises(AnalysisCancelled):
        analyze_in_segments(crossing_clip, tmp_path / "out", workers=2, min_segment_s=4, on_progress=cancel)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_bad_file_fails_at_once_with_the_video_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 50)
    with pytest.raises(VideoError, match="not a video file"):
        analyze_in_segments(bad, tmp_path / "out")


@needs_videos
@pytest.mark.parametrize("clip", ["lecture_teacher", "computer_lab", "school_closeup", "office_colleagues"])
def test_on_the_shared_clips_face_rows_are_within_2_percent_and_tracks_within_10(clip: str, tmp_path: Path) -> None:
    path = VIDEOS / f"{clip}.mp4"
    # every frame: at 8 a second, a 10 s clip's 2 % is a row or two, and a segment's first whole-frame look
    # falls at another time than the single pass's
    settings = AnalysisSettings(rate=None)
    single = analyze_video(path, tmp_path / "single", settings, write_video=False)
    split = analyze_in_segments(path, tmp_path / "split", settings, workers=2, write_video=False, min_segment_s=3)
    assert split.summary["segments"] == 2
    counts = [len(pd.read_csv(tmp_path / name / DETECTIONS_CSV)) for name in ("single", "split")]
    assert abs(counts[1] - counts[0]) <= 0.02 * counts[0], counts
    tracks = [single.summary["tracks"], split.summary["tracks"]]
    assert abs(tracks[1] - tracks[0]) <= max(1, 0.1 * tracks[0]), tracks
    shares = [result.summary["class_shares"] for result in (single, split)]
    assert (shares[0] is None) == (shares[1] is None)  # none read in one: none read in the other
    if shares[0] is not None:
        np.testing.assert_allclose(list(shares[1].values()), list(shares[0].values()), atol=0.05)


def test_the_command_line_takes_segments(crossing_clip: Path, tmp_path: Path) -> None:
    import json

    from fer.cli import main

    assert main(["analyze", str(crossing_clip), "--out", str(tmp_path), "--segments", "2", "--no-video"]) == 0
    # the segment path ran; 12 s is shorter than two minimum segments, so it made one
    assert json.loads((tmp_path / "summary.json").read_text())["segments"] == 1


def test_ray_in_local_mode_gives_the_local_pools_result(crossing_clip: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray is not installed (requirements-dev.txt installs it)")
    settings = AnalysisSettings(rate=None, every=2)
    local = analyze_in_segments(crossing_clip, tmp_path / "local", settings, workers=2, min_segment_s=4)
    try:
        on_ray = analyze_in_segments(
            crossing_clip, tmp_path / "ray", settings, workers=2, min_segment_s=4, ray_address="local"
        )
    except ConnectionError as error:  # Ray could not start its processes here
        pytest.skip(f"Ray could not start: {error}")
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "ray" / DETECTIONS_CSV), pd.read_csv(tmp_path / "local" / DETECTIONS_CSV)
    )
    assert on_ray.summary["tracks"] == local.summary["tracks"] and on_ray.summary["segments"] == 2
    assert (on_ray.summary["workers"], local.summary["workers"]) == ("Ray", "local processes")
    assert (tmp_path / "ray" / ANNOTATED_VIDEO).is_file()


def test_progress_only_moves_forward_through_analysing_and_rendering(crossing_clip: Path, tmp_path: Path) -> None:
    seen: list[tuple[float, int]] = []
    analyze_in_segments(
        crossing_clip, tmp_path / "out", AnalysisSettings(rate=None, every=2), workers=2, min_segment_s=4,
        on_progress=lambda progress: seen.append((progress.fraction, progress.frames_analysed)),
    )  # fmt: skip
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and 0 < fractions[-1] <= 1
    assert [frames for _, frames in seen] == sorted(frames for _, frames in seen)


def test_segments_keep_the_detection_boxes_a_blurred_video_needs_as_a_single_pass_does(
    crossing_clip: Path, tmp_path: Path
) -> None:
    from fer.engine.render import BLUR_BOXES_CSV

    settings = AnalysisSettings(blur=True)
    single = analyze_video(crossing_clip, tmp_path / "single", settings, write_video=False)
    split = analyze_in_segments(
        crossing_clip, tmp_path / "split", settings, workers=2, min_segment_s=4, write_video=False
    )
    assert BLUR_BOXES_CSV in single.outputs and BLUR_BOXES_CSV in split.outputs
    boxes = [pd.read_csv(tmp_path / name / BLUR_BOXES_CSV) for name in ("single", "split")]
    assert len(boxes[1]) == pytest.approx(len(boxes[0]), rel=0.05) and len(boxes[0]) > 10
