"""Many recordings in one run (``fer analyze A.mp4 B.mp4 … --out DIR`` or a folder of recordings).

Each recording gets its own result folder, ``DIR/<file stem>/``, with the same four files as a single analysis.
The models load once for the whole batch. A recording that cannot be analysed is reported with its reason and
skipped; the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from fer.engine.analyze import Progress, SessionResult, analyze_video
from fer.engine.classifier import EmotionClassifier
from fer.engine.detection import FaceDetector
from fer.engine.outputs import OutputError
from fer.engine.pipeline import AnalysisSettings
from fer.engine.segments import analyze_in_segments
from fer.engine.video_io import VIDEO_TYPES, VideoError


@dataclass(frozen=True)
class BatchItem:
    video: Path
    out_dir: Path


@dataclass(frozen=True)
class BatchOutcome:
    item: BatchItem
    result: SessionResult | None  # None: not analysed
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


def recordings(paths: Iterable[Path]) -> list[Path]:
    """The recordings named: files as given, and a folder's video files (by extension, sorted by name)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower().lstrip(".") in VIDEO_TYPES)
        else:
            found.append(path)
    return found


def plan(videos: list[Path], out_dir: Path) -> list[BatchItem]:
    """One result folder per recording, named by its stem; a stem seen before gets -2, -3…"""
    items, taken = [], set()
    for video in videos:
        name, number = video.stem or "recording", 1
        while name.lower() in taken:
            number += 1
            name = f"{video.stem}-{number}"
        taken.add(name.lower())
        items.append(BatchItem(video, out_dir / name))
    return items


def analyze_recording(
    video: Path,
    out_dir: Path,
    settings: AnalysisSettings,
    *,
    write_video: bool = True,
    on_progress: Callable[[Progress], None] | None = None,
    classifier: EmotionClassifier | None = None,
    detector: FaceDetector | None = None,
    segments: int = 1,
    ray_address: str | None = None,
) -> SessionResult:
    """One recording: a single pass, or (``segments`` > 1, or on Ray) time segments in parallel (each worker loads
    its own models: ``classifier`` and ``detector`` serve the single pass)."""
    if segments > 1 or ray_address:
        return analyze_in_segments(
            video, out_dir, settings, workers=max(segments, 2), write_video=write_video, on_progress=on_progress,
            ray_address=ray_address,
        )  # fmt: skip
    return analyze_video(
        video, out_dir, settings, write_video=write_video, on_progress=on_progress, classifier=classifier,
        detector=detector,
    )  # fmt: skip


def analyze_many(
    items: list[BatchItem],
    settings: AnalysisSettings,
    write_video: bool = True,
    on_progress: Callable[[int, Progress], None] | None = None,
    classifier: EmotionClassifier | None = None,
    segments: int = 1,
    ray_address: str | None = None,
) -> list[BatchOutcome]:
    """Analyse each item in turn (each cut into ``segments`` parallel time segments when > 1, on local processes
    or the Ray cluster at ``ray_address``); ``on_progress(index, progress)`` follows the current one."""
    classifier = classifier or EmotionClassifier(profile=settings.profile)
    outcomes = []
    for index, item in enumerate(items):

        def report(progress: Progress, index: int = index) -> None:
            if on_progress is not None:
                on_progress(index, progress)

        try:
            result = analyze_recording(
                item.video, item.out_dir, settings, write_video=write_video, on_progress=report,
                classifier=classifier, segments=segments, ray_address=ray_address,
            )  # fmt: skip
        except (VideoError, OutputError) as error:  # this recording only: the others go on
            outcomes.append(BatchOutcome(item, None, str(error)))
        else:
            outcomes.append(BatchOutcome(item, result))
    return outcomes
