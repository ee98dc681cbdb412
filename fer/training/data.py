"""Loading FER2013-style data sets: the Kaggle image folders and the original CSV.

Both loaders return a :class:`FaceDataset`. Files that cannot be used are
counted in ``problems`` rather than raising, because real downloads of this
data set do contain odd files; only a layout that cannot be a data set at all
is an error.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from fer.engine.preprocess import INPUT_SIZE, to_gray48
from fer.labels import CLASS_INDEX, CLASSES, NUM_CLASSES

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}
RESIZED = "resized to 48x48 (kept)"


class DataError(ValueError):
    """The input cannot be read as a data set at all (not merely some bad files)."""


@dataclass
class FaceDataset:
    """Grayscale face images with their class indices (see ``fer.labels.CLASSES``)."""

    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64
    sources: list[str]  # file path, or "<csv>:<line>", per image
    problems: Counter = field(default_factory=Counter)  # reason -> number of files affected
    problem_examples: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> FaceDataset:
        return cls(np.empty((0, INPUT_SIZE, INPUT_SIZE), np.uint8), np.empty(0, np.int64), [])

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=NUM_CLASSES)
        return {name: int(counts[i]) for i, name in enumerate(CLASSES)}

    def present_classes(self) -> list[str]:
        return [name for name, n in self.class_counts().items() if n > 0]

    def subset(self, indices: np.ndarray) -> FaceDataset:
        """The chosen rows; load problems stay with the whole set they were found in."""
        return FaceDataset(self.images[indices], self.labels[indices], [self.sources[i] for i in indices])

    def note(self, reason: str, source: str) -> None:
        """Count a file that was skipped or altered while loading, keeping a few examples."""
        self.problems[reason] += 1
        examples = self.problem_examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(source)


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-class loss weights ``(mean_count / count) ** power``, normalised to mean 1 over samples.

    ``power`` 0 means no reweighting, 1 full inverse frequency; classes absent
    from ``labels`` get weight 0.
    """
    counts = np.bincount(labels, minlength=NUM_CLASSES).astype(np.float64)
    present = counts > 0
    weights = np.zeros(NUM_CLASSES)
    weights[present] = (counts[present].mean() / counts[present]) ** power
    return weights / (weights[labels].mean() if len(labels) else 1.0)


def load_dataset(path: str | Path, usage: str | None = None) -> FaceDataset:
    """Either layout: a ``.csv`` file (optionally one ``Usage`` split), or a folder of class subfolders."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return load_csv(path, usage)
    return load_image_folder(path)


def load_image_folder(root: str | Path) -> FaceDataset:
    """Read ``root/<class>/*`` for any subset of the seven class folders."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder")
    class_dirs = [d for d in sorted(root.iterdir()) if d.is_dir() and d.name.lower() in CLASS_INDEX]
    if not class_dirs:
        raise DataError(f"{root} holds no class folders; expected subfolders named any of: {', '.join(CLASSES)}")
    dataset = FaceDataset.empty()
    images: list[np.ndarray] = []
    labels: list[int] = []
    for class_dir in class_dirs:
        label = CLASS_INDEX[class_dir.name.lower()]
        for file in sorted(class_dir.iterdir()):
            if file.is_dir():
                dataset.note("subfolder inside a class folder (skipped)", str(file))
                continue
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                dataset.note("not an image file (skipped)", str(file))
                continue
            image = _read_gray(file)
            if image is None:
                dataset.note("unreadable image (skipped)", str(file))
                continue
            if image.shape != (INPUT_SIZE, INPUT_SIZE):
                dataset.note(RESIZED, str(file))
                image = to_gray48(image)
            images.append(image)
            labels.append(label)
            dataset.sources.append(str(file))
    return _finish(dataset, images, labels)


def load_csv(path: str | Path, usage: str | None = None) -> FaceDataset:
    """Read the competition CSV (``emotion,pixels[,Usage]``): all rows, or one ``Usage`` split."""
    splits = load_csv_splits(path, by_usage=usage is not None)
    return splits.get(usage if usage is not None else "all", FaceDataset.empty())


def load_csv_splits(path: str | Path, by_usage: bool = True) -> dict[str, FaceDataset]:
    """Read the CSV once; one data set per ``Usage`` value (or ``"all"``), problems counted per split."""
    path = Path(path)
    rows: dict[str, tuple[FaceDataset, list[np.ndarray], list[int]]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"emotion", "pixels"} <= set(reader.fieldnames):
            raise DataError(f"{path} is not a FER2013 CSV: it needs the columns emotion and pixels")
        for line, row in enumerate(reader, start=2):
            split = (row.get("Usage") or "unlabelled") if by_usage else "all"
            dataset, images, labels = rows.setdefault(split, (FaceDataset.empty(), [], []))
            source = f"{path}:{line}"
            try:
                label = int(row["emotion"])
                pixels = np.array(row["pixels"].split(), dtype=np.float64)
            except (TypeError, ValueError, AttributeError):  # AttributeError: a short row has no pixels
                dataset.note("unparsable row (skipped)", source)
                continue
            if not 0 <= label < NUM_CLASSES:
                dataset.note("label out of range (skipped)", source)
                continue
            if (
                pixels.size != INPUT_SIZE * INPUT_SIZE
                or not np.isfinite(pixels).all()
                or not (pixels.min() >= 0 and pixels.max() <= 255)
            ):
                dataset.note("pixels not 48x48 values in 0..255 (skipped)", source)
                continue
            images.append(pixels.reshape(INPUT_SIZE, INPUT_SIZE).astype(np.uint8))
            labels.append(label)
            dataset.sources.append(source)
    return {split: _finish(dataset, images, labels) for split, (dataset, images, labels) in rows.items()}


def _read_gray(file: Path) -> np.ndarray | None:
    try:
        data = np.fromfile(file, dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def _finish(dataset: FaceDataset, images: list[np.ndarray], labels: list[int]) -> FaceDataset:
    if images:
        dataset.images = np.stack(images)
        dataset.labels = np.asarray(labels, dtype=np.int64)
    return dataset
