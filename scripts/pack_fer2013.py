"""Pack FER2013 into one small file for a lent GPU machine (``scripts/train_on_device.py`` reads it).

Why: a device machine takes at most 64 MiB with it (the repository included), and the Kaggle image folders
are 66 MB of JPEGs. The packed file drops the training split's exact duplicates (1,236 images that repeat
an earlier one; the model card's data audit) and keeps ``--bits`` of each grey level (default 6: at most
two grey levels of error after restoring, under the noise and JPEG artefacts training adds; 7 bits did
not fit: 50.8 MB against 42.4), then compresses with xz.

    python scripts/pack_fer2013.py ../shared/fer2013 .devdata/fer2013.npz.xz
"""

from __future__ import annotations

import argparse
import hashlib
import io
import lzma
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fer.training.data import FaceDataset, load_dataset


def first_copies(images: np.ndarray) -> np.ndarray:
    """Indices of the images that do not repeat an earlier one pixel for pixel."""
    seen: set[bytes] = set()
    keep = []
    for i, image in enumerate(images):
        digest = hashlib.sha1(image.tobytes()).digest()
        if digest not in seen:
            seen.add(digest)
            keep.append(i)
    return np.asarray(keep, np.int64)


def quantize(images: np.ndarray, bits: int) -> np.ndarray:
    return (images >> (8 - bits)).astype(np.uint8)


def restore(codes: np.ndarray, bits: int) -> np.ndarray:
    """Each code back to the middle of the grey levels it stands for."""
    step = 1 << (8 - bits)
    return (codes.astype(np.uint16) * step + step // 2).clip(0, 255).astype(np.uint8)


def pack(train: FaceDataset, test: FaceDataset, target: Path, bits: int) -> dict[str, int]:
    keep = first_copies(train.images)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        bits=np.int64(bits),
        train_images=quantize(train.images[keep], bits),
        train_labels=train.labels[keep],
        test_images=quantize(test.images, bits),
        test_labels=test.labels,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(lzma.compress(buffer.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    return {"train": len(keep), "dropped_duplicates": len(train) - len(keep), "test": len(test)}


def load_packed(path: Path) -> tuple[FaceDataset, FaceDataset]:
    """(train, test) as ``FaceDataset``s, grey levels restored."""
    with np.load(io.BytesIO(lzma.decompress(path.read_bytes()))) as packed:
        bits = int(packed["bits"])
        splits = []
        for split in ("train", "test"):
            images, labels = restore(packed[f"{split}_images"], bits), packed[f"{split}_labels"].astype(np.int64)
            splits.append(FaceDataset(images, labels, [f"{path}:{split}:{i}" for i in range(len(labels))]))
    return splits[0], splits[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="FER2013 in the Kaggle layout (train/ and test/)")
    parser.add_argument("target", type=Path)
    parser.add_argument("--bits", type=int, choices=range(5, 9), default=6)
    args = parser.parse_args()
    counts = pack(load_dataset(args.data / "train"), load_dataset(args.data / "test"), args.target, args.bits)
    print(f"{args.target}: {args.target.stat().st_size / 1e6:.1f} MB, {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
