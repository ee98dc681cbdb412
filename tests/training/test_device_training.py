"""The one-shot GPU training script and its packed data (scripts/train_on_device.py, scripts/pack_fer2013.py).

A lent GPU machine gives one try of a few minutes, so the script is proven here on the CPU first: packing
loses at most two grey levels and only exact duplicates, the epochs fit the time left, and a tiny run goes
end to end to an exported model.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from fer.training.data import FaceDataset
from tests.conftest import random_face

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))

from pack_fer2013 import first_copies, load_packed, pack, quantize, restore  # noqa: E402
from train_on_device import SLOWDOWN, TINY, fitted_epochs  # noqa: E402


def faces(count: int, seed: int) -> FaceDataset:
    rng = np.random.default_rng(seed)
    images = np.stack([random_face(rng) for _ in range(count)])
    return FaceDataset(images, rng.integers(0, 7, count), [str(i) for i in range(count)])


def test_quantized_grey_levels_come_back_within_two() -> None:
    levels = np.arange(256, dtype=np.uint8)
    assert np.abs(restore(quantize(levels, 6), 6).astype(int) - levels).max() == 2
    assert np.array_equal(restore(quantize(levels, 8), 8), levels)


def test_only_later_copies_are_dropped() -> None:
    images = faces(4, seed=1).images
    assert first_copies(images[[0, 1, 0, 2, 1, 3]]).tolist() == [0, 1, 3, 5]


def test_pack_round_trip(tmp_path: Path) -> None:
    train, test = faces(30, seed=2), faces(10, seed=3)
    train.images[29], train.labels[29] = train.images[3], train.labels[3]
    counts = pack(train, test, tmp_path / "fer.npz.xz", bits=6)
    assert counts == {"train": 29, "dropped_duplicates": 1, "test": 10}
    packed_train, packed_test = load_packed(tmp_path / "fer.npz.xz")
    assert np.array_equal(packed_train.labels, train.labels[:29])
    assert np.array_equal(packed_test.labels, test.labels)
    assert np.abs(packed_test.images.astype(int) - test.images).max() <= 2


def test_epochs_fit_the_time_left() -> None:
    # 10 s an epoch at warm-up, SLOWDOWN times that later: 600 s left affords 600 / (10 * SLOWDOWN) more
    assert fitted_epochs(planned=100, done=2, seconds_per_epoch=10, seconds_left=600) == 2 + int(600 // (10 * SLOWDOWN))
    assert fitted_epochs(planned=10, done=2, seconds_per_epoch=1, seconds_left=3600) == 10
    assert fitted_epochs(planned=100, done=2, seconds_per_epoch=100, seconds_left=5) == 3


def test_a_tiny_run_trains_and_exports(tmp_path: Path) -> None:
    pack(faces(600, seed=4), faces(300, seed=5), tmp_path / "fer.npz.xz", bits=6)
    out = tmp_path / "out"
    out.mkdir()
    command = [sys.executable, str(SCRIPTS / "train_on_device.py"), "--data", str(tmp_path / "fer.npz.xz")]
    command += ["--out", str(out), "--minutes", "3", "--tiny", "--workers", "1"]
    command += ["--run", "wide_v2", "--deadline", str(time.time() + 180)]
    subprocess.run(command, check=True, timeout=280, capture_output=True)
    run_dir = tmp_path / "out-runs" / "wide_v2"
    with (run_dir / "history.csv").open() as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    recorded = json.loads((run_dir / "config.json").read_text())["train"]
    assert epochs == list(range(1, recorded["epochs"] + 1))
    assert 1 <= recorded["epochs"] <= TINY.epochs
    assert (out / "wide_v2.keras").stat().st_size > 0
