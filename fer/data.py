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

from fer.labels import CLASS_INDEX, CLASSES

IMAGE_SIZE = 48
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff", ".webp"}


class DataError(ValueError):
    """The input cannot be read as a data set at all (not merely some bad files)."""


@dataclass
class FaceDataset:
    """Grayscale face images with their class indices (see ``fer.labels.CLASSES``)."""

    images: np.ndarray  # (N, 48, 48) uint8
    labels: np.ndarray  # (N,) int64
    sources: list[str]  # file path, or "csv:<row>", per image
    problems: Counter = field(default_factory=Counter)  # reason -> count of skipped files
    problem_examples: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(CLASSES))
        return {name: int(counts[i]) for i, name in enumerate(CLASSES)}

    def present_classes(self) -> list[str]:
        return [name for name, n in self.class_counts().items() if n > 0]

    def subset(self, indices: np.ndarray) -> FaceDataset:
        return FaceDataset(
            images=self.images[indices],
            labels=self.labels[indices],
            sources=[self.sources[i] for i in indices],
        )

    def _skip(self, reason: str, source: str) -> None:
        self.problems[reason] += 1
        examples = self.problem_examples.setdefault(reason, [])
        if len(examples) < 5:
            examples.append(source)


def load_dataset(path: str | Path) -> FaceDataset:
    """Load either layout: a ``.csv`` file, or a folder of class subfolders."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return load_csv(path)
    return load_image_folder(path)


def load_image_folder(root: str | Path) -> FaceDataset:
    """Read ``root/<class>/*`` for any subset of the seven class folders."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder")
    class_dirs = [d for d in sorted(root.iterdir()) if d.is_dir() and d.name.lower() in CLASS_INDEX]
    if not class_dirs:
        raise DataError(f"{root} holds no class folders; expected subfolders named any of: {', '.join(CLASSES)}")
    dataset = FaceDataset(np.empty((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.empty(0, np.int64), [])
    images: list[np.ndarray] = []
    labels: list[int] = []
    for class_dir in class_dirs:
        label = CLASS_INDEX[class_dir.name.lower()]
        for file in sorted(class_dir.iterdir()):
            if file.is_dir():
                dataset._skip("subfolder inside a class folder", str(file))
                continue
            if file.suffix.lower() not in IMAGE_SUFFIXES:
                dataset._skip("not an image file", str(file))
                continue
            image = _read_gray(file)
            if image is None:
                dataset._skip("unreadable image", str(file))
                continue
            if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
                dataset._skip(f"resized from {image.shape[1]}x{image.shape[0]}", str(file))
                image = cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA)
            images.append(image)
            labels.append(label)
            dataset.sources.append(str(file))
    return _finish(dataset, images, labels)


def load_csv(path: str | Path, usage: str | None = None) -> FaceDataset:
    """Read the competition CSV (``emotion,pixels[,Usage]``), optionally one ``Usage`` split."""
    path = Path(path)
    dataset = FaceDataset(np.empty((0, IMAGE_SIZE, IMAGE_SIZE), np.uint8), np.empty(0, np.int64), [])
    images: list[np.ndarray] = []
    labels: list[int] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"emotion", "pixels"} <= set(reader.fieldnames):
            raise DataError(f"{path} is not a FER2013 CSV: it needs the columns emotion and pixels")
        for row_number, row in enumerate(reader, start=2):
            if usage is not None and row.get("Usage") != usage:
                continue
            source = f"{path}:{row_number}"
            try:
                label = int(row["emotion"])
                pixels = np.array(row["pixels"].split(), dtype=np.float64)
            except (TypeError, ValueError):
                dataset._skip("unparsable row", source)
                continue
            if not 0 <= label < len(CLASSES):
                dataset._skip("label out of range", source)
                continue
            if pixels.size != IMAGE_SIZE * IMAGE_SIZE or pixels.min() < 0 or pixels.max() > 255:
                dataset._skip("pixels not 48x48 values in 0..255", source)
                continue
            images.append(pixels.reshape(IMAGE_SIZE, IMAGE_SIZE).astype(np.uint8))
            labels.append(label)
            dataset.sources.append(source)
    return _finish(dataset, images, labels)


def _read_gray(file: Path) -> np.ndarray | None:
    data = np.fromfile(file, dtype=np.uint8)
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def _finish(dataset: FaceDataset, images: list[np.ndarray], labels: list[int]) -> FaceDataset:
    if images:
        dataset.images = np.stack(images)
        dataset.labels = np.asarray(labels, dtype=np.int64)
    return dataset
