"""analyze_video and `fer analyze`: outputs, their contracts, progress, cancelling and bad input."""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest

from fer.cli import main
from fer.engine.analyze import AnalysisCancelled, Progress, analyze_video
from fer.engine.outputs import DETECTION_COLUMNS, OUTPUT_NAMES, STATIC_COLUMN
from fer.engine.pipeline import AnalysisSettings
from fer.engine.video_io import VideoError, VideoReader
from fer.labels import CLASSES
from tests.conftest import VIDEOS, needs_videos, write_face_clip
from tests.engine.sound_clips import garble_sound, read_sound, write_clip_with_sound

PROB_COLUMNS = [f"p_{c}" for c in CLASSES]


def _codec_and_size(path: Path) -> tuple[str, str, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.codec_context.name, stream.codec_context.pix_fmt, stream.width, stream.height


EVERY_FRAME = AnalysisSettings(rate=None)  # for tests that count frames of a short synthetic clip


def test_outputs_follow_the_contract(face_clip: Path, tmp_path: Path, classifier) -> None:
    result = analyze_video(face_clip, tmp_path / "out", EVERY_FRAME, classifier=classifier)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_NAMES)  # no staging folder left behind

    with (out / "detections.csv").open() as handle:
        rows = csv.reader(handle)
        assert next(rows) == [*DETECTION_COLUMNS, STATIC_COLUMN]
        first = dict(zip([*DETECTION_COLUMNS, STATIC_COLUMN], next(rows), strict=True))
    assert all(len(first[c].partition(".")[2]) <= 1 for c in "xywh")  # 123.4, not float32 noise
    detections = pd.read_csv(out / "detections.csv")
    assert len(detections) == 20 - 3  # one face from its second detection on (the detector runs every 3rd frame)
    assert detections["track_id"].nunique() == 1
    assert detections["frame"].is_monotonic_increasing and detections["frame"].max() == 19
    np.testing.assert_allclose(detections["time_s"], detections["frame"] / 10, atol=1e-3)
    read = detections["readable"] == 1
    assert read.mean() >= 0.9 and detections.loc[read, "unreadable_reason"].isna().all()
    np.testing.assert_allclose(detections.loc[read, PROB_COLUMNS].sum(axis=1), 1.0, atol=1e-3)
    assert set(detections.loc[read, "label"]) <= set(CLASSES)
    assert (detections["x"] >= 0).all() and (detections["x"] + detections["w"] <= 400.5).all()

    timeline = pd.read_csv(out / "timeline.csv")
    assert list(timeline.columns[:10]) == ["time_s", "faces", "faces_readable", *[f"share_{c}" for c in CLASSES]]
    assert timeline["time_s"].tolist() == [0.0, 1.0]
    assert timeline["faces"].tolist() == [1, 1]
    np.testing.assert_allclose(timeline[[f"share_{c}" for c in CLASSES]].sum(axis=1), 1.0)

    summary = json.loads((out / "summary.json").read_text())
    assert summary["tracks"] == 1 and summary["frames_analysed"] == 20
    assert summary["duration_s"] == pytest.approx(2.0, abs=0.05) and summary["fps"] == pytest.approx(10)
    assert summary["model_version"] == classifier.version
    assert summary["settings"]["every"] == 1 and summary["dominant"] in CLASSES
    assert sum(summary["class_shares"].values()) == pytest.approx(1.0, abs=1e-3)
    assert result.summary == summary

    assert _codec_and_size(out / "annotated.mp4") == ("h264", "yuv420p", 400, 300)
    video = (out / "annotated.mp4").read_bytes()
    assert video.index(b"moov") < video.index(b"mdat")  # index first: browsers start playing at once
    assert result.outputs["annotated.mp4"] == out / "annotated.mp4"


def test_every_nth_frame_and_no_video(face_clip: Path, tmp_path: Path, classifier) -> None:
    settings = AnalysisSettings(rate=None, every=4, detect_every=1)  # the face moves 32 px between analysed frames
    result = analyze_video(face_clip, tmp_path, settings, write_video=False, classifier=classifier)
    assert result.frames_analysed == 5
    assert not (tmp_path / "annotated.mp4").exists()
    frames = pd.read_csv(tmp_path / "detections.csv")["frame"]
    assert (frames % 4 == 0).all() and frames.max() == 16


def test_a_video_without_faces_gives_an_empty_but_valid_session(tmp_path: Path, classifier) -> None:
    clip = write_face_clip(tmp_path / "empty_room.mp4", frames=12, face=False)
    result = analyze_video(clip, tmp_path / "out", classifier=classifier)
    assert result.summary["tracks"] == 0 and result.summary["dominant"] is None
    assert len(pd.read_csv(tmp_path / "out" / "detections.csv")) == 0
    assert result.timeline["faces"].tolist() == [0, 0]
    assert result.timeline["share_happy"].isna().all()


def test_progress_reports_and_cancelling_leaves_old_results_untouched(
    face_clip: Path, tmp_path: Path, classifier
) -> None:
    out = tmp_path / "out"
    analyze_video(face_clip, out, EVERY_FRAME, write_video=False, classifier=classifier)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    seen: list[Progress] = []

    def cancel_halfway(progress: Progress) -> None:
        seen.append(progress)
        if progress.frames_analysed == 10:
            raise AnalysisCancelled

    with pytest.raises(AnalysisCancelled):
        analyze_video(face_clip, out, EVERY_FRAME, on_progress=cancel_halfway, classifier=classifier)
    assert [p.frames_analysed for p in seen] == list(range(1, 11))
    assert 0.4 < seen[-1].fraction < 0.5
    assert all(p.paced_from == (seen[0].elapsed_s, seen[0].video_time_s) for p in seen)  # from the first frame
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_time_left_is_paced_from_the_first_analysed_frame_not_from_loading_the_models() -> None:
    loaded = (2.9, 0.125)  # 2.9 s of loading, then the first frame
    assert Progress(1, 0.125, 32.0, 2.9, loaded).eta_s is None
    assert Progress(20, 2.5, 32.0, 4.0, loaded).eta_s is None  # a second of frames is no pace yet
    # 12.375 s of video in 5 s of analysis: 19.5 s of video left take about 7.9 s (counting the loading: 17.2 s)
    assert Progress(100, 12.5, 32.0, 7.9, loaded).eta_s == pytest.approx(5 * 19.5 / 12.375)
    assert Progress(100, 12.5, 0.0, 7.9, loaded).eta_s is None  # the container does not say how long


def test_without_out_dir_nothing_is_written(face_clip: Path, tmp_path: Path, classifier, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = analyze_video(face_clip, classifier=classifier)
    assert result.outputs == {} and list(tmp_path.iterdir()) == []
    assert result.summary["tracks"] == 1


@needs_videos
def test_the_smiling_woman_clip_gives_one_track_and_a_browser_playable_video(tmp_path: Path) -> None:
    assert main(["analyze", str(VIDEOS / "smiling_woman.mp4"), "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["tracks"] == 1 and summary["static_tracks"] == []
    assert summary["frames_analysed"] == 37  # 8 a second (the default rate) over its 4.6 s, of 115 frames
    codec, pix_fmt, width, height = _codec_and_size(tmp_path / "annotated.mp4")
    assert (codec, pix_fmt) == ("h264", "yuv420p") and width % 2 == 0 and height % 2 == 0
    with av.open(str(tmp_path / "annotated.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 37  # the analysed frames, annotated


def test_cli_analyze_blur_and_stride(face_clip: Path, tmp_path: Path, capsys) -> None:
    assert main(["analyze", str(face_clip), "--out", str(tmp_path), "--every", "2", "--blur"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["settings"]["blur"] is True and summary["frames_analysed"] == 10
    assert "1 faces tracked" in capsys.readouterr().out


def _truncated(path: Path, face_clip: Path) -> None:
    path.write_bytes(face_clip.read_bytes()[:1500])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p, clip: p.write_text("hello, I am a text file"), "not a video file"),
        (lambda p, clip: p.write_bytes(b""), "empty"),
        (_truncated, "no decodable video frames"),  # the index survives (faststart), no frame does
    ],
    ids=["text", "empty", "truncated"],
)
def test_cli_bad_input_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, face_clip: Path, capsys, make, message: str
) -> None:
    bad = tmp_path / "lecture.mp4"
    make(bad, face_clip)
    out = tmp_path / "out"
    assert main(["analyze", str(bad), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and "lecture.mp4" in error and len(error.splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize("option", [["--threshold", "1.5"], ["--every", "0"], ["--detector-size", "-3"]])
def test_cli_rejects_out_of_range_options(face_clip: Path, tmp_path: Path, option: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(face_clip), "--out", str(tmp_path), *option])
    assert exit_info.value.code == 2


def test_cli_missing_file_and_unwritable_output_exit_2(face_clip: Path, tmp_path: Path, capsys) -> None:
    assert main(["analyze", str(tmp_path / "nope.mp4"), "--out", str(tmp_path / "out")]) == 2
    assert "no such file" in capsys.readouterr().err
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    assert main(["analyze", str(face_clip), "--out", str(blocker / "out")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_video_error_is_raised_before_any_model_loads(tmp_path: Path) -> None:
    bad = tmp_path / "x.mp4"
    bad.write_text("nope")
    with pytest.raises(VideoError):
        analyze_video(bad, tmp_path / "out", classifier=None)
    assert not (tmp_path / "out").exists()


def test_corrupted_packets_mid_video_do_not_stop_the_analysis(tmp_path: Path, classifier) -> None:
    clip = write_face_clip(tmp_path / "clip.mp4", frames=25)
    data = bytearray(clip.read_bytes())
    with av.open(str(clip)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    rng = np.random.default_rng(0)
    for pos, size in packets[5:15]:  # garble the middle frames' data, keep the first keyframe
        data[pos + 4 : pos + size] = rng.integers(0, 256, size - 4, dtype=np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    result = analyze_video(damaged, tmp_path / "out", EVERY_FRAME, classifier=classifier)
    assert result.frames_analysed + result.corrupt_frames == 25
    assert (tmp_path / "out" / "summary.json").is_file() and (tmp_path / "out" / "annotated.mp4").is_file()


def test_variable_frame_rate_times_come_from_timestamps(tmp_path: Path, classifier) -> None:
    clip = tmp_path / "vfr.mp4"
    times_ms = [0, 40, 80, 300, 340, 900, 940, 1500]
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for t in times_ms:
            frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), 90, np.uint8), format="bgr24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    seen: list[float] = []
    analyze_video(clip, None, EVERY_FRAME, on_progress=lambda p: seen.append(p.video_time_s), classifier=classifier)
    np.testing.assert_allclose(seen, np.array(times_ms) / 1000, atol=0.002)
    # at a rate, the first frame at or after each 1/rate s: 4 a second here -> 0, 0.3 (for 0.25), 0.9 (0.5 and
    # 0.75 fall in the gap: one frame, no burst after it), 1.5
    seen.clear()
    at_rate = AnalysisSettings(rate=4.0)
    analyze_video(clip, None, at_rate, on_progress=lambda p: seen.append(p.video_time_s), classifier=classifier)
    np.testing.assert_allclose(seen, [0.0, 0.3, 0.9, 1.5], atol=0.002)


def test_cli_help_states_the_real_defaults(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    defaults = AnalysisSettings()
    assert f"analysed frames per second of the recording (default {defaults.rate:g};" in help_text
    assert "every N-th frame instead of a rate" in help_text
    full_every = f"in between only around the tracked faces (default {defaults.full_detect_every_s:g};"
    assert full_every in help_text
    assert f"detection score (default {defaults.threshold})" in help_text
    assert f"faces in between (default {defaults.detect_every})" in help_text


def test_a_recording_cut_off_half_way_is_analysed_up_to_the_cut(face_clip: Path, tmp_path: Path, classifier) -> None:
    data = face_clip.read_bytes()
    size = len(data) * 8 // 10
    with av.open(str(face_clip)) as container:
        whole_frames = sum(1 for p in container.demux(video=0) if p.size and p.pos + p.size <= size)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:size])
    result = analyze_video(cut, tmp_path / "out", EVERY_FRAME, classifier=classifier)
    assert whole_frames >= 5 and whole_frames <= result.frames_analysed < 20
    assert (tmp_path / "out" / "summary.json").is_file()


def test_a_face_too_small_to_read_is_tracked_but_gets_no_expression_anywhere(tmp_path: Path, classifier) -> None:
    clip = write_face_clip(tmp_path / "small.mp4", portrait_px=72)  # the face is about 26 px across
    analyze_video(clip, tmp_path / "out", classifier=classifier)
    detections = pd.read_csv(tmp_path / "out" / "detections.csv", keep_default_na=False)
    assert len(detections) > 10 and detections["track_id"].nunique() == 1
    assert (detections["readable"] == 0).all() and set(detections["unreadable_reason"]) == {"small"}
    assert set(detections["label"]) == {""} and (detections[PROB_COLUMNS] == "").all().all()
    timeline = pd.read_csv(tmp_path / "out" / "timeline.csv")
    assert (timeline["faces"] == 1).all() and (timeline["faces_readable"] == 0).all()
    assert timeline[[f"share_{c}" for c in CLASSES]].isna().all().all()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["readable_share"] == 0.0 and summary["dominant"] is None and summary["class_shares"] is None
    assert summary["unreadable_reasons"]["small"] == len(detections)
    assert summary["quality"]["face_px"]["session"]["median"] < 36
    assert any("px across" in warning for warning in summary["input_warnings"])


def test_a_recording_cut_short_is_analysed_up_to_the_cut_and_flagged(tmp_path: Path, capsys) -> None:
    whole = write_face_clip(tmp_path / "whole.mp4", frames=28, fps=8.0)
    cut = tmp_path / "cut.mp4"
    data = whole.read_bytes()
    cut.write_bytes(data[: int(len(data) * 0.5)])  # the file's header still says 3.5 s
    assert main(["analyze", str(cut), "--out", str(tmp_path / "out"), "--no-video"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["truncated"] is True and summary["declared_duration_s"] == pytest.approx(3.5, abs=0.1)
    assert summary["duration_s"] < 2.8  # what was seen, not what the header claims
    assert any("cut short" in warning for warning in summary["input_warnings"])
    assert "warning: The recording says it lasts 4 s" in capsys.readouterr().err
    whole_summary = analyze_video(whole, None).summary
    assert whole_summary["truncated"] is False and not any("cut short" in w for w in whole_summary["input_warnings"])


def _jumping_clip(path: Path, last_pts: int) -> Path:
    """Six frames at 25 fps, the last stamped at ``last_pts`` / 25 s (a broken or edited file's timing)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        for index, pts in enumerate([0, 1, 2, 3, 4, last_pts]):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), 40 * index, np.uint8), format="bgr24")
            frame.pts, frame.time_base = pts, Fraction(1, 25)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def test_a_timestamp_jump_leaves_a_gap_not_thousands_of_rows_and_is_flagged(tmp_path: Path) -> None:
    clip = _jumping_clip(tmp_path / "jump.mkv", 25 * 20_000)  # 5.6 h later
    result = analyze_video(clip, tmp_path / "out")
    timeline = pd.read_csv(tmp_path / "out" / "timeline.csv")
    assert timeline["time_s"].tolist() == [0.0, 20_000.0]  # two rows, not 20,000
    assert any("timestamps jump from 0 s to 20000 s" in w for w in result.summary["input_warnings"])


def test_a_file_claiming_a_million_seconds_is_refused_at_once_with_the_reason(tmp_path: Path) -> None:
    clip = _jumping_clip(tmp_path / "absurd.mkv", 25_000_000)  # a 2 KB file whose last frame claims 10^6 s
    with pytest.raises(VideoError, match=r"absurd.mkv: it says it lasts 277.8 h; recordings of up to 6 h"):
        analyze_video(clip, tmp_path / "out")
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_large_video_is_read_at_a_capped_size_and_its_boxes_stay_in_source_pixels(tmp_path: Path) -> None:
    import cv2

    from fer.engine.video_io import H264Writer
    from tests.conftest import portrait

    clip = tmp_path / "large.mp4"
    with H264Writer(clip, 10.0) as writer:
        canvas = np.full((1200, 2400, 3), 90, np.uint8)
        canvas[300:900, 1000:1512] = cv2.resize(portrait(), (512, 600))
        for _ in range(8):
            writer.write(canvas)
    results, boxes = {}, {}
    for name, max_side in (("native", None), ("capped", 600)):
        settings = AnalysisSettings(max_side=max_side, detect_every=1)
        results[name] = analyze_video(clip, tmp_path / name, settings, write_video=False).summary
        boxes[name] = pd.read_csv(tmp_path / name / "detections.csv")[["x", "y", "w", "h"]].median().to_numpy()
    assert results["native"]["analysis_scale"] == 1.0 and results["capped"]["analysis_scale"] == 0.25
    # the same face, in source pixels (the box of a face a quarter the size is a few source pixels looser)
    np.testing.assert_allclose(boxes["capped"], boxes["native"], rtol=0.1)
    assert results["capped"]["width"] == 2400  # the summary describes the source
    with VideoReader(clip) as video:
        frame = next(video.frames(max_side=600))
    assert frame.image.shape == (300, 600, 3) and frame.scale == 0.25


def test_the_annotated_video_keeps_the_recordings_sound_with_a_stride(tmp_path: Path, classifier) -> None:
    clip = write_clip_with_sound(tmp_path / "lesson.mp4", seconds=3.0, fps=10.0, size=(160, 120), tone=(1.0, 2.0))
    result = analyze_video(clip, tmp_path / "out", AnalysisSettings(rate=None, every=2), classifier=classifier)
    sound = read_sound(tmp_path / "out" / "annotated.mp4")
    assert sound.codec == "aac" and sound.duration_s == pytest.approx(3.0, abs=0.2)
    start, end = sound.loud_span_s()
    assert start == pytest.approx(1.0, abs=0.03) and end == pytest.approx(2.0, abs=0.03)
    assert not any("sound" in warning for warning in result.summary["input_warnings"])


def test_sound_running_on_past_the_last_frame_is_cut_there(tmp_path: Path, classifier) -> None:
    clip = write_clip_with_sound(tmp_path / "lesson.mp4", seconds=2.0, fps=10.0, size=(160, 120), sound_until_s=4.0)
    with av.open(str(clip)) as container:
        assert float(container.streams.audio[0].duration * container.streams.audio[0].time_base) > 3.9
    result = analyze_video(clip, tmp_path / "out", AnalysisSettings(rate=None, every=3), classifier=classifier)
    assert result.frames_analysed == 7  # 7 frames of 0.3 s: the video lasts 2.1 s
    sound = read_sound(tmp_path / "out" / "annotated.mp4")
    assert sound.duration_s == pytest.approx(2.1, abs=0.05)
    assert sound.samples.shape[1] / sound.rate < 2.2 and sound.loud_span_s()[1] > 2.0


def test_a_broken_sound_track_still_gives_the_video_and_a_warning(tmp_path: Path, capsys) -> None:
    clip = write_clip_with_sound(tmp_path / "lesson.mp4", fps=10.0, size=(160, 120))
    broken = garble_sound(clip, tmp_path / "broken.mp4")
    assert main(["analyze", str(broken), "--out", str(tmp_path / "out"), "--every", "1"]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["frames_analysed"] == 20
    assert read_sound(tmp_path / "out" / "annotated.mp4") is None
    assert _codec_and_size(tmp_path / "out" / "annotated.mp4")[0] == "h264"
    assert any(w.startswith("The recording's sound could not be copied") for w in summary["input_warnings"])
    assert "warning: The recording's sound could not be copied" in capsys.readouterr().err
