"""Train several candidate networks at once, in one short call on a lent GPU machine (the device tool).

Why a script of its own: such a machine is lent for about 15 minutes now and then, starts bare and takes at
most 64 MiB with it. So the data travels packed (``scripts/pack_fer2013.py``), Keras as wheels, and every
run has a time budget: at the end of its warm-up it fits its epoch count to the time left, so its cosine
schedule still ends at zero and the run ends in time. Runs share the GPU as separate processes; each one
augments its coming epochs in a pool of CPU processes. Each run's best epoch (by test accuracy, as
``fer train`` selects) is exported without optimizer state to ``OUT/<run>.keras``, and the histories and
configs go to ``OUT/records.tar.gz``.

Keras is not on the device's image: carry it as wheels for Python 3.12 in ``.whl/`` (keras 3.15.1, namex, optree;
``pip download`` as /work/.library/device/README.md shows), name ``.devdata`` and ``.whl`` in the call's ``carry``,
and begin the command with that README's ``pip install --target /tmp/site`` line. The 2026-12-04 call, its
numbers and what came of them: models/MODEL_CARD.md, "wider networks trained on a lent GPU".

    python scripts/train_on_device.py --data .devdata/fer2013.npz.xz --out "$OUT" --minutes 6.5 2>&1 \
        | grep --line-buffered -v -i warn | tee "$OUT/log.txt"   # --line-buffered: a killed grep loses its buffer
    python scripts/train_on_device.py --data .devdata/fer2013.npz.xz --out /tmp/tiny --minutes 1 --tiny  # CPU check
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import multiprocessing.pool
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fer.training.model import ModelConfig  # noqa: E402 (imports Keras; a run's workers see JAX_PLATFORMS=cpu)
from fer.training.train import RECIPES, TrainConfig  # noqa: E402

WIDE = ModelConfig(widths=(32, 64, 128, 256), convs_per_stage=(2, 2, 2, 2))
WIDER = ModelConfig(widths=(48, 96, 192, 384), convs_per_stage=(2, 2, 2, 2))
RUNS: dict[str, TrainConfig] = {
    # one network with flip averaging costs what today's two-network accurate profile costs on the CPU
    "wide_v2": replace(RECIPES["v2"], model=WIDE, epochs=120, seed=3),
    # what width buys beyond that (twice as slow on the CPU)
    "wider_v2": replace(RECIPES["v2"], model=WIDER, epochs=120, seed=4),
    # today's network, far longer than the CPU could afford (recipe v2 under-fitted at 60 epochs)
    "small_v2_long": replace(RECIPES["v2"], epochs=150, seed=5),
    # today's network on clean faces with mixup, for the fast profile (live)
    "small_v1_mixup_long": replace(RECIPES["v1"], mixup_alpha=0.4, mixup_probability=0.5, epochs=150, seed=6),
}
TINY = replace(
    RECIPES["v2"], model=ModelConfig(widths=(8, 8, 16, 16), convs_per_stage=(1, 1, 1, 1)), epochs=4, warmup_epochs=1
)
TINY_SAMPLES = 512


# How much slower an epoch gets once every run is past its warm-up and they all share the GPU and the CPUs: on
# 2026-12-04 four runs on one H200 took 2-3x their warm-up epoch's time, overran their budget and were cut off.
SLOWDOWN = 2.5


def fitted_epochs(planned: int, done: int, seconds_per_epoch: float, seconds_left: float) -> int:
    """As many epochs as the time left allows (at least one more), never more than planned."""
    affordable = done + int(seconds_left // max(SLOWDOWN * seconds_per_epoch, 1e-6))
    return max(done + 1, min(planned, affordable))


class PrefetchedBatches:
    """``AugmentedBatches`` made by a process pool, ``ahead`` epochs in advance; same batches, same order."""

    def __init__(self, pool: multiprocessing.pool.Pool, batches_per_epoch: int, ahead: int) -> None:
        self.pool, self.batches_per_epoch, self.ahead = pool, batches_per_epoch, ahead
        self.pending: dict[int, multiprocessing.pool.AsyncResult] = {}

    def __len__(self) -> int:
        return self.batches_per_epoch

    def epoch(self, epoch: int) -> Iterator[tuple]:
        for coming in range(epoch, epoch + self.ahead):
            if coming not in self.pending:
                self.pending[coming] = self.pool.apply_async(_worker_epoch, (coming,))
        yield from self.pending.pop(epoch).get()


_WORKER_BATCHES = None


def _init_worker(data: str, run: str, tiny: bool) -> None:
    global _WORKER_BATCHES
    from fer.training.train import AugmentedBatches

    train_data, _ = _load(Path(data), tiny)
    _WORKER_BATCHES = AugmentedBatches(train_data, _config(run, tiny))


def _worker_epoch(epoch: int) -> list:
    return list(_WORKER_BATCHES.epoch(epoch))


def _config(run: str, tiny: bool) -> TrainConfig:
    return TINY if tiny else RUNS[run]


def _load(data: Path, tiny: bool):
    from pack_fer2013 import load_packed

    train_data, test_data = load_packed(data)
    if tiny:  # a random draw: the files are stored class by class
        rng = np.random.default_rng(0)
        return (
            train_data.subset(rng.choice(len(train_data), TINY_SAMPLES, replace=False)),
            test_data.subset(rng.choice(len(test_data), TINY_SAMPLES // 2, replace=False)),
        )
    return train_data, test_data


def train_one(run: str, data: Path, out: Path, deadline: float, workers: int, tiny: bool) -> None:
    """One run in this process: warm-up, fit the epochs to the deadline, train, export the best epoch."""
    os.environ["JAX_PLATFORMS"] = "cpu"  # the augmenting workers must not take GPU memory
    pool = multiprocessing.get_context("spawn").Pool(workers, _init_worker, (str(data), run, tiny))
    os.environ.pop("JAX_PLATFORMS")
    from fer.engine.preprocess import standardize
    from fer.labels import NUM_CLASSES
    from fer.training.backend import keras
    from fer.training.model import build_model
    from fer.training.train import (
        compile_model,
        export_model,
        learning_rate_schedule,
        record_epoch,
        run_epoch,
        write_run_record,
    )

    config = _config(run, tiny)
    train_data, test_data = _load(data, tiny)
    run_dir = out.parent / f"{out.name}-runs" / run  # beside OUT: only the exported models come back from there
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    batches = PrefetchedBatches(pool, math.ceil(len(train_data) / config.batch_size), ahead=3)
    model = build_model(config.model)
    compile_model(model, config, len(batches))
    validation = (standardize(test_data.images), keras.utils.to_categorical(test_data.labels, NUM_CLASSES))
    history: list[dict[str, float]] = []
    epoch, epochs = 0, config.epochs
    while epoch < epochs:
        started = time.time()
        row = run_epoch(model, batches, epoch, validation, epochs, show_progress=False)
        record_epoch(model, run_dir, history, row)
        epoch += 1
        if epoch == config.warmup_epochs:  # the last warm-up epoch: no compiling in it, the schedule's cosine not begun
            epochs = fitted_epochs(config.epochs, epoch, time.time() - started, deadline - time.time())
            config = replace(config, epochs=epochs)
            model.optimizer.learning_rate = learning_rate_schedule(config, len(batches))
            model.make_train_function(force=True)  # the jitted step holds the schedule it was traced with
        print(f"{run} epoch {epoch}/{epochs}: val {row['val_accuracy']:.4f} ({row['seconds']:.1f} s)", flush=True)
        if time.time() > deadline:  # slower than fitted: stop here, so the best epoch so far still comes back
            print(f"{run}: out of time after epoch {epoch}", flush=True)
            break
    pool.terminate()
    write_run_record(run_dir, config, train_data, test_data, None)
    export_model(run_dir / "best.keras", out / f"{run}.keras")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="a file from scripts/pack_fer2013.py")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, required=True, help="training time for every run, warm-up included")
    parser.add_argument("--workers", type=int, default=3, help="augmenting processes per run")
    parser.add_argument("--tiny", action="store_true", help="a tiny network on 512 faces: checks the script on a CPU")
    parser.add_argument("--run", choices=sorted(RUNS), help=argparse.SUPPRESS)  # one run, in a child process
    parser.add_argument("--deadline", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        train_one(args.run, args.data, args.out, args.deadline, args.workers, args.tiny)
        return 0
    deadline = time.time() + 60 * args.minutes
    env = dict(os.environ, XLA_PYTHON_CLIENT_PREALLOCATE="false", PYTHONUNBUFFERED="1")
    children = {
        run: subprocess.Popen(
            [sys.executable, __file__, *sys.argv[1:], "--run", run, "--deadline", str(deadline)], env=env
        )
        for run in RUNS
    }
    failed = [run for run, child in children.items() if child.wait() != 0]
    runs = args.out.parent / f"{args.out.name}-runs"
    with tarfile.open(args.out / "records.tar.gz", "w:gz") as records:
        records.add(runs, arcname="runs", filter=_without_checkpoints)
    shutil.rmtree(runs)
    print("failed runs:", failed or "none")
    return 1 if failed else 0


def _without_checkpoints(member: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if member.name.endswith(".keras") else member


if __name__ == "__main__":
    raise SystemExit(main())
