"""``analyze_video``: a recording in, a session result (and its files) out.

Frames are streamed, so memory stays flat however long the video is; every
analysed frame goes through ``FrameAnalyzer``, the engine live analysis uses too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from fer.engine.aggregate import SessionAggregator
from fer.engine.annotate import FaceAnnotator
from fer.engine.background import BackgroundConsumer, prefetch, timed
from fer.engine.classifier import EmotionClassifier
from fer.engine.detection import FaceDetector
from fer.engine.outputs import (
    ANNOTATED_VIDEO,
    DETECTIONS_CSV,
    SUMMARY_JSON,
    TIMELINE_CSV,
    DetectionsCsv,
    mark_static_rows,
    staged_outputs,
    write_summary_json,
    write_timeline_csv,
)
from fer.engine.pipeline import AnalysisSettings, FrameAnalyzer, FrameResult
from fer.engine.render import BLUR_BOXES_CSV, BlurBoxesCsv
from fer.engine.video_io import Frame, H264Writer, VideoInfo, VideoReader, capped_scale

MIN_PACE_S = 3.0  # seconds of analysis before a time left is estimated


class AnalysisCancelled(Exception):  # noqa: N818 - it is a signal, not an error
    """Raise from ``on_progress`` to stop an analysis; nothing is written."""


@dataclass(frozen=True)
class Progress:
    frames_analysed: int
    video_time_s: float
    duration_s: float
    elapsed_s: float
    # (elapsed_s, video_time_s) where the pace is measured from: the first analysed frame, so the seconds spent
    # loading the models do not count as analysis (a 32 s job once said "about 3:08 left")
    paced_from: tuple[float, float] = (0.0, 0.0)

    @property
    def fraction(self) -> float:
        """Share of the video done; 0 while the container does not say how long the video is."""
        return min(self.video_time_s / self.duration_s, 1.0) if self.duration_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the pace since ``paced_from``; None until it has run ``MIN_PACE_S`` (the first frames,
        caches cold, are no pace) or where the video's length is unknown."""
        spent = self.elapsed_s - self.paced_from[0]
        done = self.video_time_s - self.paced_from[1]
        if self.duration_s <= 0 or spent < MIN_PACE_S or done <= 0:
            return None
        return spent * max(self.duration_s - self.video_time_s, 0.0) / done


@dataclass
class SessionResult:
    source: str
    info: VideoInfo
    settings: AnalysisSettings
    model_version: str
    frames_analysed: int
    corrupt_frames: int
    processing_s: float
    timeline: pd.DataFrame
    tracks: pd.DataFrame
    summary: dict
    outputs: dict[str, Path] = field(default_factory=dict)


def analyze_video(
    path: str | Path,
    out_dir: str | Path | None = None,
    settings: AnalysisSettings | None = None,
    *,
    write_video: bool = True,
    on_progress: Callable[[Progress], None] | None = None,
    classifier: EmotionClassifier | None = None,
    detector: FaceDetector | None = None,
) -> SessionResult:
    """Analyse a video file; with ``out_dir``, write annotated.mp4, detections.csv, timeline.csv, summary.json.

    Raises ``VideoError`` for input that is not a readable video, ``OutputError``
    when ``out_dir`` cannot be written, and lets ``AnalysisCancelled`` from
    ``on_progress`` through; in every failure no output file is left behind.
    """
    settings = settings or AnalysisSettings()
    started = time.perf_counter()
    with ExitStack() as stack:
        # input and output are checked first, so bad ones fail in a moment instead of after the models load
        video = stack.enter_context(VideoReader(path))
        info = video.info
        staging = stack.enter_context(staged_outputs(Path(out_dir))) if out_dir is not None else None
        classifier = classifier or EmotionClassifier(profile=settings.profile)
        analyzer = FrameAnalyzer(classifier, settings, detector)
        interval_s = settings.sample_interval_s(info.fps)
        aggregator = SessionAggregator(settings.bin_s, interval_s)
        sound_warnings: list[str] = []
        sinks = _frame_sinks(staging, write_video, 1 / interval_s, settings.blur, video, sound_warnings)
        decoding = {"decode": 0.0}
        with sinks as sink:
            frames_analysed, last_time, longest_gap, paced_from = 0, 0.0, (0.0, 0.0), None
            frames = stack.enter_context(closing(prefetch(timed(analysed_frames(video, settings), decoding))))
            for frame in frames:
                if frame.time_s - last_time > longest_gap[1] - longest_gap[0]:
                    longest_gap = (last_time, frame.time_s)
                result = analyzer.process(frame.image, frame.time_s)
                aggregator.add(result.faces, frame.time_s, result.quality)
                if sink is not None:
                    sink(frame, result)
                frames_analysed, last_time = frames_analysed + 1, frame.time_s
                if on_progress is not None:
                    elapsed = time.perf_counter() - started
                    paced_from = paced_from or (elapsed, last_time)
                    on_progress(Progress(frames_analysed, last_time, info.duration_s, elapsed, paced_from))
        seen = FramesSeen(frames_analysed, last_time, longest_gap, video.corrupt_frames, sound_warnings)
        staged = (staging, Path(out_dir), write_video) if staging is not None else None
        stages = stage_times(time.perf_counter() - started, decoding["decode"], analyzer.timings)
        return finish_session(
            path, info, settings, aggregator, analyzer.static.static_ids(), seen, started, classifier.version,
            type(analyzer.detector).__name__, staged, extra={"stage_s": stages},
        )  # fmt: skip


def analysed_frames(
    video: VideoReader, settings: AnalysisSettings, span: tuple[float, float] | None = None
) -> Iterator[Frame]:
    """The frames of ``video`` (or of its ``span``, start and end seconds) the settings analyse. At a rate of at
    most half the frame rate most frames are never looked at, so the decoder skips the frames nothing else is
    predicted from (B-frames)."""
    if settings.rate is not None and settings.rate * 2 <= video.info.fps:
        video.skip_unreferenced_frames()
    if span is None:
        return video.frames(settings.every, settings.max_side, settings.rate)
    return video.frames_between(*span, settings.every, settings.max_side, settings.rate)


def stage_times(total_s: float, decode_s: float, analysis: dict[str, float]) -> dict[str, float]:
    """Seconds per stage of an analysis, for the summary and bench/lesson.py: decoding runs in its own thread beside
    the rest, so the stages add up to more than the total."""
    rest = total_s - sum(analysis.values())
    return {"total": round(total_s, 2), "decode": round(decode_s, 2)} | {
        name: round(seconds, 2) for name, seconds in {**analysis, "rest": rest}.items()
    }


@dataclass(frozen=True)
class FramesSeen:
    """What a pass over a recording saw, for its summary: frames analysed, the last one's time, the longest gap
    between two frames, packets FFmpeg rejected, and why the annotated video has no sound (if so)."""

    frames_analysed: int
    last_time_s: float
    longest_gap: tuple[float, float]
    corrupt_frames: int
    sound_warnings: list[str]


def finish_session(
    path: str | Path,
    info: VideoInfo,
    settings: AnalysisSettings,
    aggregator: SessionAggregator,
    static_ids: set[int],
    seen: FramesSeen,
    started: float,
    model_version: str,
    detector: str,
    staged: tuple[Path, Path, bool] | None,
    extra: dict | None = None,
) -> SessionResult:
    """Timeline, tracks and summary (with ``extra`` entries) from the aggregated frames; with ``staged`` (staging
    folder, output folder, whether the annotated video was written), timeline.csv and summary.json are written
    beside detections.csv."""
    timeline, tracks, numbers = aggregator.finish(static_ids)
    processing_s = time.perf_counter() - started
    decoded_until_s = seen.last_time_s + settings.sample_interval_s(info.fps)
    cut_short = _cut_short(info.duration_s, decoded_until_s)
    if cut_short:
        numbers["input_warnings"].append(cut_short)
    numbers["input_warnings"].extend(seen.sound_warnings)  # the annotated video's sound: never a failure
    gap_from, gap_to = seen.longest_gap
    if gap_to - gap_from > MAX_FRAME_GAP_S:
        numbers["input_warnings"].append(
            f"The recording's timestamps jump from {gap_from:.0f} s to {gap_to:.0f} s with no "
            "frame between: its timing looks broken (a damaged or edited file). The gap is left empty."
        )
    duration_s = decoded_until_s if cut_short else max(info.duration_s, decoded_until_s)
    summary = {
        "source": Path(path).name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": round(duration_s, 3),
        "fps": round(info.fps, 3),
        "width": info.width,
        "height": info.height,
        "rotation": info.rotation,
        "analysis_scale": round(capped_scale(info, settings.max_side), 4),  # < 1: read smaller (max_side)
        "frames_analysed": seen.frames_analysed,
        "corrupt_frames": seen.corrupt_frames,
        "truncated": bool(cut_short),
        "declared_duration_s": round(info.duration_s, 3),
        **numbers,
        "settings": settings.to_dict(),
        "model_version": model_version,
        "detector": detector,
        "processing_s": round(processing_s, 2),
        "speed_x_realtime": round(duration_s / processing_s, 2) if processing_s > 0 else None,
        **(extra or {}),
    }
    outputs: dict[str, Path] = {}
    if staged is not None:
        staging, out_dir, write_video = staged
        mark_static_rows(staging / DETECTIONS_CSV, static_ids)
        write_timeline_csv(timeline, staging / TIMELINE_CSV)
        write_summary_json(summary, staging / SUMMARY_JSON)
        names = [DETECTIONS_CSV, TIMELINE_CSV, SUMMARY_JSON] + ([ANNOTATED_VIDEO] if write_video else [])
        names += [BLUR_BOXES_CSV] if (staging / BLUR_BOXES_CSV).is_file() else []
        outputs = {name: out_dir / name for name in names}
    return SessionResult(
        source=str(path),
        info=info,
        settings=settings,
        model_version=model_version,
        frames_analysed=seen.frames_analysed,
        corrupt_frames=seen.corrupt_frames,
        processing_s=processing_s,
        timeline=timeline,
        tracks=tracks,
        summary=summary,
        outputs=outputs,
    )


MAX_FRAME_GAP_S = 60.0  # frames further apart than this: the file's timing is broken or it was paused


def _cut_short(declared_s: float, decoded_until_s: float) -> str | None:
    """A warning when the frames end well before the duration the file declares (a copy or upload cut off)."""
    if declared_s <= 0 or decoded_until_s >= declared_s - max(1.0, 0.02 * declared_s):
        return None
    return (
        f"The recording says it lasts {declared_s:.0f} s but its frames end at {decoded_until_s:.0f} s: it looks "
        "cut short (an interrupted copy or upload). Only the part that could be read was analysed."
    )


@contextmanager
def _frame_sinks(
    staging: Path | None, write_video: bool, fps: float, blur: bool, video: VideoReader, sound_warnings: list[str]
) -> Iterator[Callable[[Frame, FrameResult], None] | None]:
    """Per-frame outputs: a detections.csv row writer and, in a background thread, the annotated video with the
    recording's sound (up to the last frame written); why it has none, if it should, goes to ``sound_warnings``."""
    if staging is None:
        yield None
        return
    with ExitStack() as stack:
        rows = DetectionsCsv(stack.enter_context((staging / DETECTIONS_CSV).open("w", newline="")))
        # with blurring asked for, every box the detector saw is kept, so a video made later hides every face
        hidden = BlurBoxesCsv(stack.enter_context((staging / BLUR_BOXES_CSV).open("w", newline=""))) if blur else None
        encode = None
        writer = None
        if write_video:
            writer = H264Writer(staging / ANNOTATED_VIDEO, fps, sound_from=video.path, sound_start_s=video.start_s)
            stack.enter_context(writer)
            annotator = FaceAnnotator(blur=blur)

            def annotate_and_write(job: tuple) -> None:
                image, faces, xyxy, time_s = job
                writer.write(annotator.annotate(image, faces, xyxy), time_s)

            encode = stack.enter_context(BackgroundConsumer(annotate_and_write))

        def sink(frame: Frame, result: FrameResult) -> None:
            rows.write(frame.index, frame.time_s, result.faces, frame.scale)
            if hidden is not None:
                hidden.write(frame.time_s, np.vstack([result.faces.xyxy, result.detected.xyxy]), frame.scale)
            if encode is not None:
                encode((frame.image, result.faces, result.detected.xyxy, frame.time_s))

        yield sink
    if writer is not None:
        sound_warnings.extend(writer.sound_warnings)
