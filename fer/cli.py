"""Command-line interface: ``fer data-report | train | evaluate | robustness | export | analyze | worker``.

Heavy imports happen inside each command so ``fer --help`` stays instant.
Errors in the input exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fer.engine.outputs import OutputError
from fer.engine.video_io import VideoError
from fer.training.data import DataError

if TYPE_CHECKING:
    from fer.engine.pipeline import AnalysisSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fer", description="Classroom facial-expression analytics.")
    commands = parser.add_subparsers(dest="command", required=True)

    report = commands.add_parser("data-report", help="audit a FER2013-style data set")
    report.add_argument("--data", required=True, type=Path, help="folder (split/class/*.jpg or class/*.jpg) or CSV")
    report.add_argument("--out", required=True, type=Path, help="folder for the PNGs and report.md")

    train = commands.add_parser("train", help="train the expression classifier")
    train.add_argument("--data", required=True, type=Path, help="folder holding train/ and test/, or the CSV")
    train.add_argument("--out", required=True, type=Path, help="folder for checkpoints, curves and the model")
    train.add_argument("--epochs", type=int, help="number of epochs (default: the recipe's, see TrainConfig)")
    train.add_argument("--resume", action="store_true", help="continue from OUT/last.keras")
    train.add_argument(
        "--init", type=Path, help="start from this trained .keras model's weights (a warm restart; new schedule)"
    )
    train.add_argument("--learning-rate", type=_positive_float, help="peak learning rate (default: the recipe's, 0.03)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--recipe",
        choices=("v1", "v2", "distill"),
        default="v1",
        help="v1: the shipped model's recipe; v2: adds real-footage degradations and mixup, 60 epochs; "
        "distill: a 20-epoch warm restart (--init) learning from --teacher, with v2's degradations and mixup",
    )
    train.add_argument(
        "--teacher", type=Path, nargs="+", help="with --recipe distill: the models (.onnx or .keras) to learn from"
    )

    evaluate = commands.add_parser("evaluate", help="score a model on a labelled folder")
    evaluate.add_argument("--data", required=True, type=Path, help="folder of class subfolders, or a CSV")
    evaluate.add_argument("--model", type=Path, help="a .onnx or .keras file (default: the shipped model)")
    evaluate.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    evaluate.add_argument(
        "--out",
        type=Path,
        default=Path("evaluation"),
        help="folder for confusion.png and metrics.json (default: ./evaluation)",
    )
    evaluate.add_argument("--usage", help="with a CSV: score only rows of this Usage (e.g. PublicTest)")
    evaluate.add_argument("--flip", action="store_true", help="average with the mirrored face (2x the cost)")
    evaluate.add_argument(
        "--profile",
        choices=("fast", "accurate"),
        help="the app's serving profile (accurate: its ensemble, flip-averaged); with --model, its flip averaging",
    )

    robust = commands.add_parser("robustness", help="accuracy under blur, low resolution, JPEG and darkness")
    robust.add_argument("--data", required=True, type=Path, help="folder of class subfolders, e.g. fer2013/test")
    robust.add_argument(
        "--model", type=Path, action="append", help="a .onnx or .keras file; repeat to compare (default: shipped)"
    )
    robust.add_argument("--flip", action="store_true", help="average with the mirrored face")
    robust.add_argument("--profile", choices=("fast", "accurate"), help="the app's serving profile, as for evaluate")

    export = commands.add_parser("export", help="write the int8 ONNX model the app runs, from a trained .keras")
    export.add_argument("--model", type=Path, help="the .keras model (default: models/fer_vgg.keras)")
    export.add_argument(
        "--data", required=True, type=Path, help="calibration faces: class folders, a folder holding train/, or the CSV"
    )
    export.add_argument("--out", type=Path, help="the .onnx file to write (default: models/fer_vgg.int8.onnx)")
    export.add_argument("--samples", type=_positive_int, default=1024, help="calibration faces to draw (default 1024)")

    analyze = commands.add_parser(
        "analyze", help="analyse videos: annotated MP4, per-face CSV, timeline, summary (one folder per video)"
    )
    analyze.add_argument(
        "videos", type=Path, nargs="+", help="video files (mp4, mov, avi, mkv, webm, ...) or folders of them"
    )
    analyze.add_argument(
        "--out", required=True, type=Path, help="folder for the results (several videos: OUT/<file stem>/ each)"
    )
    sampling = analyze.add_mutually_exclusive_group()
    sampling.add_argument(
        "--rate",
        type=_positive_float,
        help="analysed frames per second of the recording (default 8; at or above its frame rate: every frame)",
    )
    sampling.add_argument("--every", type=_positive_int, help="analyse every N-th frame instead of a rate")
    analyze.add_argument(
        "--threshold",
        type=_score,
        help="minimum face detection score (default 0.3); a new face needs 0.2 more to start a track",
    )
    analyze.add_argument(
        "--detect-every",
        type=_positive_int,
        help="run the detector on every K-th analysed frame and track faces in between (default 3)",
    )
    analyze.add_argument(
        "--detector-size", type=_positive_int, help="shrink frames to this longer side for detection (faster)"
    )
    analyze.add_argument(
        "--full-detect-every",
        type=float,
        metavar="SECONDS",
        help="look for faces in the whole frame this often, in between only around the tracked faces (default 2; "
        "0: always the whole frame)",
    )
    analyze.add_argument(
        "--max-side",
        type=_positive_int,
        help="read videos larger than this (longer side) scaled down to it: bounded memory (default 1920)",
    )
    analyze.add_argument(
        "--segments",
        type=_positive_int,
        default=1,
        help="cut a long recording into this many time segments analysed in parallel (default 1; 2 with --ray)",
    )
    analyze.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="run the segments as Ray tasks: 'local' starts a Ray on this machine, else a cluster's address "
        "(default: $FER_RAY_ADDRESS, or local processes)",
    )
    analyze.add_argument(
        "--profile",
        choices=["fast", "accurate"],
        default="accurate",
        help="the classifier: accurate (default; each face also read mirrored: +1.2 points on PublicTest, the "
        "whole analysis 2-5 %% slower) or fast (what live video uses)",
    )
    analyze.add_argument("--blur", action="store_true", help="blur every detected face in annotated.mp4")

    worker = commands.add_parser(
        "worker", help="run the app's queued analyses (the app starts this itself when there is work)"
    )
    worker.add_argument(
        "--parallel", type=_positive_int, help="jobs at once (default: $FER_JOB_WORKERS, else half the cores)"
    )
    worker.add_argument(
        "--idle-exit",
        type=_positive_float,
        help="exit after this many seconds without work (default: $FER_JOB_IDLE_EXIT_S, else 60)",
    )
    analyze.add_argument("--no-video", action="store_true", help="skip annotated.mp4 (faster)")
    return parser


def _score(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (DataError, FileNotFoundError, VideoError, OutputError) as error:
        print(f"fer {args.command}: {error}", file=sys.stderr)
        return 2


def _data_report(args: argparse.Namespace) -> int:
    from fer.training.data_report import write_data_report

    report = write_data_report(args.data, args.out)
    print(f"wrote {report}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from fer.training.train import RECIPES, InitError, TeacherMissingError, train

    teacher = tuple(str(member) for member in args.teacher) if args.teacher else None
    given = {"epochs": args.epochs, "peak_learning_rate": args.learning_rate, "seed": args.seed, "teacher": teacher}
    config = replace(RECIPES[args.recipe], **{name: value for name, value in given.items() if value is not None})
    try:
        model_path = train(args.data, args.out, config, resume=args.resume, init=args.init)
    except (InitError, TeacherMissingError) as error:
        raise DataError(str(error)) from error
    print(f"best model: {model_path}")
    return 0


def _robustness(args: argparse.Namespace) -> int:
    from fer.training.data import load_dataset
    from fer.training.onnx_export import load_classifier
    from fer.training.robustness import markdown_table, robustness

    dataset = load_dataset(args.data)
    if len(dataset) == 0:
        raise DataError(f"no readable images found in {args.data}")
    results = {}
    for path in args.model or [None]:
        classifier = load_classifier(path, flip_average=args.flip, profile=args.profile)
        name = path.name if path else f"shipped {classifier.profile}"
        results[name] = robustness(classifier.predict, dataset.images, dataset.labels)
    print(markdown_table(results))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from fer.training.evaluate import evaluate_folder

    result = evaluate_folder(
        args.data, args.model, flip=args.flip, out=args.out, usage=args.usage, profile=args.profile
    )
    if args.json:
        print(json.dumps(result.to_json()))
    else:
        print(result.to_text())
    print(f"wrote {args.out / 'metrics.json'} and {args.out / 'confusion.png'}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    import numpy as np

    from fer.engine.preprocess import prepare_faces
    from fer.paths import DEFAULT_MODEL_PATH, KERAS_MODEL_PATH
    from fer.training.data import load_dataset
    from fer.training.onnx_export import export_classifier

    model = args.model or KERAS_MODEL_PATH
    if not model.is_file():
        raise FileNotFoundError(f"model file not found: {model}")
    source = args.data / "train" if (args.data / "train").is_dir() else args.data
    faces = load_dataset(source, "Training" if source.is_file() else None)
    if len(faces) == 0:
        raise DataError(f"no readable images found in {source}")
    chosen = np.random.default_rng(0).choice(len(faces), min(args.samples, len(faces)), replace=False)
    target = export_classifier(model, prepare_faces(faces.images[np.sort(chosen)]), args.out or DEFAULT_MODEL_PATH)
    print(f"wrote {target} (calibrated on {len(chosen)} faces from {source})")
    return 0


def _analyze(args: argparse.Namespace) -> int:
    from fer.engine.pipeline import AnalysisSettings

    given = {
        "rate": args.rate,
        "every": args.every,
        "threshold": args.threshold,
        "detect_every": args.detect_every,
        "detector_max_side": args.detector_size,
        "max_side": args.max_side,
        "profile": args.profile,
    }
    given = {name: value for name, value in given.items() if value is not None}
    if args.every is not None:
        given["rate"] = None  # every N-th frame instead of the default rate
    if args.full_detect_every is not None:
        given["full_detect_every_s"] = args.full_detect_every if args.full_detect_every > 0 else None
    settings = AnalysisSettings(blur=args.blur, **given)
    from fer.engine.workers import ray_address

    parallel = Parallel(args.segments, ray_address(args.ray))
    if len(args.videos) == 1 and not args.videos[0].is_dir():
        return _analyze_one(args.videos[0], args.out, settings, not args.no_video, parallel)
    return _analyze_batch(args.videos, args.out, settings, not args.no_video, parallel)


@dataclass(frozen=True)
class Parallel:
    """How each recording is analysed: in ``segments`` time segments (1: a single pass), on Ray at ``ray`` or on
    local processes."""

    segments: int
    ray: str | None


_BAR_FORMAT = "{l_bar}{bar}| {elapsed}<{remaining}{postfix}"


def _analyze_one(video: Path, out: Path, settings: AnalysisSettings, write_video: bool, parallel: Parallel) -> int:
    from tqdm import tqdm

    from fer.engine.analyze import Progress
    from fer.engine.batch import analyze_recording

    with tqdm(total=100, unit="%", bar_format=_BAR_FORMAT, file=sys.stderr, disable=None, delay=0.5) as bar:

        def show(progress: Progress) -> None:
            percent = round(progress.fraction * 100)
            if percent != bar.n:
                bar.n = percent
                bar.set_postfix_str(f"{progress.video_time_s:.0f} s of video", refresh=False)
                bar.refresh()

        result = analyze_recording(
            video, out, settings, write_video=write_video, on_progress=show, segments=parallel.segments,
            ray_address=parallel.ray,
        )  # fmt: skip
    summary = result.summary
    print(
        f"{summary['frames_analysed']} frames, {summary['tracks']} faces tracked, "
        f"dominant expression: {summary['dominant'] or 'no faces found'}; "
        f"{summary['speed_x_realtime']}x real time"
    )
    for warning in summary.get("input_warnings") or []:
        print(f"warning: {warning}", file=sys.stderr)
    for path in result.outputs.values():
        print(f"wrote {path}")
    return 0


def _analyze_batch(
    paths: list[Path], out: Path, settings: AnalysisSettings, write_video: bool, parallel: Parallel
) -> int:
    """Every recording into OUT/<stem>/; one overall progress bar; a table at the end; exit 2 only when none could
    be analysed."""
    from tqdm import tqdm

    from fer.engine.analyze import Progress
    from fer.engine.batch import analyze_many, plan, recordings

    items = plan(recordings(paths), out)
    if not items:
        raise DataError(f"no video files ({', '.join(str(p) for p in paths)}): give files, or folders holding them")
    with tqdm(total=100 * len(items), unit="%", bar_format=_BAR_FORMAT, file=sys.stderr, disable=None) as bar:

        def show(index: int, progress: Progress) -> None:
            position = round(100 * index + 100 * progress.fraction)
            if position != bar.n:
                bar.n = position
                bar.set_postfix_str(f"{index + 1}/{len(items)} {items[index].video.name}", refresh=False)
                bar.refresh()

        outcomes = analyze_many(
            items, settings, write_video=write_video, on_progress=show, segments=parallel.segments,
            ray_address=parallel.ray,
        )  # fmt: skip
    width = max(len(item.video.name) for item in items)
    print(f"{'recording':<{width}}  {'result':<8} frames  faces  most common  speed   folder")
    for outcome in outcomes:
        name = outcome.item.video.name
        if outcome.ok:
            summary = outcome.result.summary
            print(
                f"{name:<{width}}  {'ok':<8} {summary['frames_analysed']:>6}  {summary['tracks']:>5}  "
                f"{summary['dominant'] or '-':<11}  {summary['speed_x_realtime']:>4}x   {outcome.item.out_dir}"
            )
            for warning in summary.get("input_warnings") or []:
                print(f"warning: {name}: {warning}", file=sys.stderr)
        else:
            print(f"{name:<{width}}  {'skipped':<8} {outcome.error}")
            print(f"error: {outcome.error}", file=sys.stderr)
    done = sum(outcome.ok for outcome in outcomes)
    print(f"{done} of {len(outcomes)} recordings analysed")
    return 0 if done else 2


def _worker(args: argparse.Namespace) -> int:
    import logging

    from fer.sessions.job_worker import WorkerConfig, default_idle_exit_s, default_parallel, run_worker
    from fer.sessions.store import data_dir, database_url

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    parallel = args.parallel or default_parallel()
    idle_exit_s = args.idle_exit or default_idle_exit_s()
    return run_worker(WorkerConfig(data_dir(), database_url(), parallel=parallel, idle_exit_s=idle_exit_s))


COMMANDS = {
    "data-report": _data_report,
    "train": _train,
    "robustness": _robustness,
    "evaluate": _evaluate,
    "export": _export,
    "analyze": _analyze,
    "worker": _worker,
}
