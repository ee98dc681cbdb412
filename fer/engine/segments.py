"""One long recording analysed as time segments in parallel processes, stitched into a single-pass result.

Two parallel phases, each one process per segment (onnxruntime on one thread in each, so the processes do not
fight over the cores):

1. *analyse*: each process seeks to its segment, runs the same ``FrameAnalyzer`` as a single pass and spills
   every frame's faces to a file (memory stays flat however long the segment);
2. the parent *stitches* the tracks across each boundary (a face in the last second of one segment and the first
   second of the next, at the same place, is one face), numbers them as a single pass would, aggregates every
   frame in time order and writes detections.csv, timeline.csv and summary.json;
3. *render* (with the annotated video): each process decodes its segment again and draws the stitched faces
   into its own MP4 with the recording's sound; the parent joins them without re-encoding.

Each segment starts analysing ``WARM_UP_S`` early without recording, so its tracker and smoothing are settled at
the boundary; a few frames there can still differ from a single pass: the face rows stay within 2 % and the
tracks within 10 % of it (tests/engine/test_segments.py).
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer.engine.aggregate import SessionAggregator
from fer.engine.analyze import FramesSeen, Progress, SessionResult, analysed_frames, finish_session
from fer.engine.annotate import FaceAnnotator
from fer.engine.background import prefetch
from fer.engine.classifier import EmotionClassifier
from fer.engine.detections import Detections, box_iou
from fer.engine.outputs import ANNOTATED_VIDEO, DETECTIONS_CSV, DetectionsCsv, staged_outputs
from fer.engine.pipeline import AnalysisSettings, FrameAnalyzer, settings_detector
from fer.engine.render import BLUR_BOXES_CSV, BlurBoxesCsv
from fer.engine.video_io import H264Writer, VideoReader, join_mp4
from fer.engine.workers import Pending, Workers, local_cores, open_workers
from fer.engine.workers import ray_address as ray_address_of

MIN_SEGMENT_S = 60.0  # shorter segments cost more in model loading and boundary effects than they save
BOUNDARY_S = 1.0  # a track ending and one starting within this of a boundary may be the same face
BOUNDARY_IOU = 0.3
WARM_UP_S = 2.0  # each segment but the first starts analysing this early, unrecorded: its tracks are confirmed
# and its smoothing settled by its first recorded frame, as in a single pass


@dataclass(frozen=True)
class Segment:
    index: int
    start_s: float
    end_s: float  # exclusive; the last segment's is infinite (frames past the declared duration belong to it)


def plan_segments(duration_s: float, parts: int, min_segment_s: float = MIN_SEGMENT_S) -> list[Segment]:
    """Up to ``parts`` equal time segments, none shorter than ``min_segment_s`` (one segment for a short video)."""
    count = max(1, min(parts, int(duration_s // min_segment_s)))
    bounds = [duration_s * i / count for i in range(count)] + [float("inf")]
    return [Segment(i, bounds[i], bounds[i + 1]) for i in range(count)]


# track id -> (time, box): each track's first (or last) box within ``BOUNDARY_S`` of a segment's start (or end)
_Boxes = dict[int, tuple[float, np.ndarray]]


@dataclass(frozen=True)
class _SegmentAnalysed:
    segment: Segment
    rows: Path
    frames: int
    last_time_s: float
    longest_gap: tuple[float, float]
    corrupt_frames: int
    static_ids: set[int]
    starts: _Boxes
    ends: _Boxes
    model_version: str
    detector: str


def _analyse(
    path: Path, segment: Segment, settings: AnalysisSettings, rows: Path, progress: object, threads: int
) -> _SegmentAnalysed:
    """Worker process: analyse one segment, spilling (index, time, scale, faces, detected boxes, quality) per frame."""
    classifier = EmotionClassifier(threads=threads, profile=settings.profile)
    detector = settings_detector(settings, threads)
    analyzer = FrameAnalyzer(classifier, settings, detector)
    starts: _Boxes = {}
    ends: _Boxes = {}
    frames, first, last, gap, reported = 0, None, segment.start_s, (segment.start_s, segment.start_s), 0.0
    with VideoReader(path) as video, rows.open("wb") as spill, ExitStack() as stack:
        warm_from = max(0.0, segment.start_s - WARM_UP_S)
        decoded = analysed_frames(video, settings, (warm_from, segment.end_s))
        for frame in stack.enter_context(closing(prefetch(decoded))):
            result = analyzer.process(frame.image, frame.time_s)
            if frame.time_s < segment.start_s:
                continue  # warming up: the previous segment records these frames
            record = (frame.index, frame.time_s, frame.scale, result.faces, result.detected.xyxy, result.quality)
            pickle.dump(record, spill, protocol=pickle.HIGHEST_PROTOCOL)
            first = frame.time_s if first is None else first
            if frame.time_s - last > gap[1] - gap[0]:
                gap = (last, frame.time_s)
            frames, last = frames + 1, frame.time_s
            for track_id, box in zip(result.faces.track_id.tolist(), result.faces.xyxy, strict=True):
                if frame.time_s - first <= BOUNDARY_S:
                    starts.setdefault(track_id, (frame.time_s, box.copy()))
                ends[track_id] = (frame.time_s, box.copy())
            if time.monotonic() - reported > 0.5:
                progress.put((segment.index, frame.time_s, frames))
                reported = time.monotonic()
        progress.put((segment.index, last, frames))
        corrupt = video.corrupt_frames
    recent = {tid: seen for tid, seen in ends.items() if last - seen[0] <= BOUNDARY_S}
    return _SegmentAnalysed(
        segment, rows, frames, last, gap, corrupt, analyzer.static.static_ids(), starts, recent, classifier.version,
        type(detector).__name__,
    )  # fmt: skip


def continued_tracks(analysed: list[_SegmentAnalysed]) -> list[dict[int, int]]:
    """Per segment, which of its tracks continue one of the previous segment: a track starting near the boundary
    where one ended, at the same place (IoU >= 0.3), maps to that track's id in the previous segment."""
    carried: list[dict[int, int]] = [{} for _ in analysed]
    for k in range(1, len(analysed)):
        before, after = analysed[k - 1].ends, analysed[k].starts
        pairs = sorted(
            ((box_iou(b[1][None], a[1][None])[0, 0], tb, ta) for tb, b in before.items() for ta, a in after.items()),
            reverse=True,
        )
        used_before, used_after = set(), set()
        for iou, tb, ta in pairs:
            if iou < BOUNDARY_IOU:
                break
            if tb not in used_before and ta not in used_after:
                carried[k][ta] = tb
                used_before.add(tb)
                used_after.add(ta)
    return carried


def analyze_in_segments(
    path: str | Path,
    out_dir: str | Path | None = None,
    settings: AnalysisSettings | None = None,
    *,
    workers: int = 2,
    write_video: bool = True,
    on_progress: Callable[[Progress], None] | None = None,
    min_segment_s: float = MIN_SEGMENT_S,
    ray_address: str | None = None,
) -> SessionResult:
    """``analyze_video``'s result and files, from ``workers`` processes on time segments of the recording (of at
    least ``min_segment_s`` each, so a short recording is one segment): local processes, or Ray tasks with
    ``ray_address`` (or ``$FER_RAY_ADDRESS``; ``local`` starts a Ray here for the run)."""
    settings = settings or AnalysisSettings()
    started = time.perf_counter()
    path = Path(path)
    with ExitStack() as stack:
        with VideoReader(path) as video:  # a bad file fails here, at once
            info, start_s = video.info, video.start_s
        staging = stack.enter_context(staged_outputs(Path(out_dir))) if out_dir is not None else None
        scratch = stack.enter_context(_scratch(staging))
        segments = plan_segments(info.duration_s, workers, min_segment_s)
        address = ray_address_of(ray_address)
        pool = open_workers(len(segments), address)
        stack.callback(pool.close)  # on cancel or failure too: the workers stop now
        # the cores shared out, never oversubscribed (a Ray task has one CPU)
        threads = 1 if address else max(1, local_cores() // len(segments))
        calls = [
            (path, seg, settings, scratch / f"segment{seg.index}.pickle", pool.progress, threads) for seg in segments
        ]
        phases = 2 if staging is not None and write_video else 1
        follow = _Follow(pool, segments, info.duration_s, phases, started, on_progress)
        analysed = follow.wait(pool.submit(_analyse, calls), phase=0)
        carried = continued_tracks(analysed)
        aggregator = SessionAggregator(settings.bin_s, settings.sample_interval_s(info.fps))
        mapping, static = _aggregate(analysed, carried, aggregator, staging, settings.blur)
        sound_warnings: list[str] = []
        if staging is not None and write_video:
            fps = 1 / settings.sample_interval_s(info.fps)
            jobs = [
                (
                    path,
                    a.segment,
                    settings,
                    a.rows,
                    mapping[k],
                    scratch / f"segment{k}.mp4",
                    fps,
                    start_s,
                    pool.progress,
                )
                for k, a in enumerate(analysed)
            ]
            rendered = follow.wait(pool.submit(_render, jobs), phase=1)
            join_mp4([scratch / f"segment{k}.mp4" for k in range(len(analysed))], staging / ANNOTATED_VIDEO)
            sound_warnings = sorted({warning for warnings in rendered for warning in warnings})
        longest_gap = max((a.longest_gap for a in analysed), key=lambda g: g[1] - g[0])
        seen = FramesSeen(
            sum(a.frames for a in analysed),
            analysed[-1].last_time_s if analysed[-1].frames else max(a.last_time_s for a in analysed),
            longest_gap,
            sum(a.corrupt_frames for a in analysed),
            sound_warnings,
        )
        staged = (staging, Path(out_dir), write_video) if staging is not None else None
        return finish_session(
            path, info, settings, aggregator, static, seen, started, analysed[0].model_version,
            analysed[0].detector, staged, extra={"segments": len(segments), "workers": pool.name},
        )  # fmt: skip


@dataclass
class _Follow:
    """Waits for a phase's workers while passing their progress on (``on_progress`` may cancel). With the video,
    analysing and rendering are each half the work: ``video_time_s`` is the video both phases have covered, halved."""

    pool: Workers
    segments: list[Segment]
    duration_s: float
    phases: int
    started: float
    on_progress: Callable[[Progress], None] | None
    frames_analysed: int = 0
    paced_from: tuple[float, float] | None = None  # Progress.paced_from: when the first segment reported

    def wait(self, pending: Pending, phase: int) -> list:
        reached: dict[int, tuple[float, int]] = {}  # segment -> (time reached, frames)
        while not pending.ready():
            pending.wait(0.25)
            for index, time_s, frames in self.pool.drain():
                reached[index] = (time_s, frames)
            if self.on_progress is not None:
                covered = sum(time_s - self.segments[index].start_s for index, (time_s, _) in reached.items())
                done_s = (phase * self.duration_s + min(covered, self.duration_s)) / self.phases
                if phase == 0:  # rendering draws the frames analysed: the count stays
                    self.frames_analysed = sum(count for _, count in reached.values())
                elapsed = time.perf_counter() - self.started
                if self.paced_from is None and done_s > 0:  # the segments' models loaded, frames came in
                    self.paced_from = (elapsed, done_s)
                paced_from = self.paced_from or (elapsed, done_s)
                self.on_progress(Progress(self.frames_analysed, done_s, self.duration_s, elapsed, paced_from))
        return pending.results()


def _aggregate(
    analysed: list[_SegmentAnalysed],
    carried: list[dict[int, int]],
    aggregator: SessionAggregator,
    staging: Path | None,
    blur: bool = False,
) -> tuple[list[dict[int, int]], set[int]]:
    """Every frame in time order into the aggregator (and detections.csv, and with ``blur`` every detection box into
    blur_boxes.csv, as a single pass keeps them) under session-wide track ids; returns each segment's id mapping
    and the static ids (tracks flagged static in every segment they are in)."""
    mappings: list[dict[int, int]] = []
    seen_in: dict[int, int] = {}  # segments each track is in
    flagged_in: dict[int, int] = {}  # segments whose static-face check flagged it
    next_id = 1
    with ExitStack() as stack:
        rows = hidden = None
        if staging is not None:
            rows = DetectionsCsv(stack.enter_context((staging / DETECTIONS_CSV).open("w", newline="")))
            if blur:
                hidden = BlurBoxesCsv(stack.enter_context((staging / BLUR_BOXES_CSV).open("w", newline="")))
        for k, part in enumerate(analysed):
            mapping: dict[int, int] = {}
            for index, time_s, scale, faces, detected, quality in _records(part.rows):
                for local in faces.track_id.tolist():
                    if local not in mapping:
                        earlier = carried[k].get(local)
                        if earlier is not None and earlier in mappings[k - 1]:
                            mapping[local] = mappings[k - 1][earlier]
                        else:
                            mapping[local], next_id = next_id, next_id + 1
                faces = _relabelled(faces, mapping)
                aggregator.add(faces, time_s, quality)
                if rows is not None:
                    rows.write(index, time_s, faces, scale)
                if hidden is not None:
                    hidden.write(time_s, np.vstack([faces.xyxy, detected]), scale)
            for local, track in mapping.items():
                seen_in[track] = seen_in.get(track, 0) + 1
                flagged_in[track] = flagged_in.get(track, 0) + (local in part.static_ids)
            mappings.append(mapping)
    # a poster is still in every segment it is in; a face still for one short segment is no poster
    static = {track for track, count in seen_in.items() if flagged_in[track] == count}
    return mappings, static


def _render(
    path: Path,
    segment: Segment,
    settings: AnalysisSettings,
    rows: Path,
    mapping: dict[int, int],
    target: Path,
    fps: float,
    start_s: float,
    progress: object,
) -> list[str]:
    """Worker process: the segment's annotated video (stitched ids), with the recording's sound for its span."""
    annotator = FaceAnnotator(blur=settings.blur)
    records = _records(rows)
    frames, reported = 0, 0.0
    with VideoReader(path) as video, H264Writer(target, fps, sound_from=path, sound_start_s=start_s) as writer:
        for frame in analysed_frames(video, settings, (segment.start_s, segment.end_s)):
            index, _time_s, _scale, faces, detected, _quality = next(records)
            if index != frame.index:
                raise RuntimeError(f"segment {segment.index}: frame {frame.index} decoded, {index} analysed")
            writer.write(annotator.annotate(frame.image, _relabelled(faces, mapping), detected), frame.time_s)
            frames += 1
            if time.monotonic() - reported > 0.5:
                progress.put((segment.index, frame.time_s, frames))
                reported = time.monotonic()
    return writer.sound_warnings


def _records(path: Path) -> Iterator[tuple]:
    with path.open("rb") as spill:
        while True:
            try:
                yield pickle.load(spill)  # our own worker's spill file, never user input
            except EOFError:
                return


def _relabelled(faces: Detections, mapping: dict[int, int]) -> Detections:
    ids = np.array([mapping.get(int(t), int(t)) for t in faces.track_id], np.int64)
    return Detections(faces.xyxy, faces.score, ids, faces.probs, faces.landmarks, faces.unreadable)


@contextmanager
def _scratch(staging: Path | None) -> Iterator[Path]:
    """A folder for the workers' spill files and segment videos: inside the staging folder (and gone before it is
    committed), else a temporary one."""
    if staging is None:
        with tempfile.TemporaryDirectory(prefix="fer-segments-") as folder:
            yield Path(folder)
        return
    folder = staging / ".segments"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
