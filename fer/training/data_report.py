"""Data audit: ``python -m fer data-report`` — what is in a FER2013-style data set.

Per split: class counts and chart, a sample grid per class, class weights,
exact and near-duplicate images (perceptual hash), and blank or
low-contrast images; across splits: images shared between them (leakage).
Everything is written as PNGs plus ``report.md``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from fer.labels import CLASS_INDEX, CLASSES
from fer.training.data import DataError, FaceDataset, class_weights, load_csv_splits, load_image_folder
from fer.training.plots import plot_class_distribution, save_image_grid

NEAR_DUPLICATE_BITS = 4  # max differing bits of the 64-bit pHash for a near-duplicate pair
BLANK_STD = 2.0  # pixel std (0..255) below which an image is effectively one flat colour
LOW_CONTRAST_STD = 12.0
SAMPLES_PER_CLASS = 24


@dataclass
class SplitAudit:
    """What the audit found in one split; ``digests`` and ``phashes`` are per image, for cross-split checks."""

    name: str
    dataset: FaceDataset
    exact_duplicate_images: int = 0  # images that repeat an earlier one in the split, pixel for pixel
    exact_duplicate_conflicts: int = 0  # of those, with a different label than their twin
    near_duplicate_pairs: int = 0
    blank: list[int] = field(default_factory=list)
    low_contrast: list[int] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    phashes: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))

    def non_blank_hashes(self) -> np.ndarray:
        """pHashes without the blank images (which all hash alike and would swamp the pair counts)."""
        return np.delete(self.phashes, self.blank)


def load_splits(path: Path) -> dict[str, FaceDataset]:
    """A CSV (split by its Usage column), a folder of split folders, or a single class-folder tree."""
    if path.is_file():
        return load_csv_splits(path)
    if not path.is_dir():
        raise DataError(f"{path} is neither a folder nor a CSV file")
    if any(d.is_dir() and d.name.lower() in CLASS_INDEX for d in path.iterdir()):
        return {path.name: load_image_folder(path)}
    splits = {}
    for sub in sorted(d for d in path.iterdir() if d.is_dir()):
        if any(d.is_dir() and d.name.lower() in CLASS_INDEX for d in sub.iterdir()):
            splits[sub.name] = load_image_folder(sub)
    if not splits:
        raise DataError(f"{path} holds no class folders ({', '.join(CLASSES)}), directly or one level down")
    return splits


def audit_split(name: str, dataset: FaceDataset) -> SplitAudit:
    audit = SplitAudit(name, dataset)
    seen: dict[str, int] = {}
    for i, image in enumerate(dataset.images):
        digest = hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest()
        audit.digests.append(digest)
        if digest in seen:
            audit.exact_duplicate_images += 1
            if dataset.labels[seen[digest]] != dataset.labels[i]:
                audit.exact_duplicate_conflicts += 1
        else:
            seen[digest] = i
    stds = dataset.images.reshape(len(dataset), -1).std(axis=1) if len(dataset) else np.empty(0)
    audit.blank = np.flatnonzero(stds < BLANK_STD).tolist()
    audit.low_contrast = np.flatnonzero((stds >= BLANK_STD) & (stds < LOW_CONTRAST_STD)).tolist()
    audit.phashes = np.array(
        [int(str(imagehash.phash(Image.fromarray(im))), 16) for im in dataset.images], dtype=np.uint64
    )
    hashes = audit.non_blank_hashes()
    audit.near_duplicate_pairs = count_close_pairs(hashes, hashes, same_set=True)
    return audit


def count_close_pairs(a: np.ndarray, b: np.ndarray, same_set: bool, max_bits: int = NEAR_DUPLICATE_BITS) -> int:
    """Pairs (i, j) with Hamming distance <= max_bits between 64-bit hashes; i < j when ``same_set``."""
    total = 0
    for start in range(0, len(a), 512):
        rows = a[start : start + 512]
        # with one set, compare each row only to the hashes after it (the upper triangle)
        columns_from = start if same_set else 0
        close = np.bitwise_count(rows[:, None] ^ b[None, columns_from:]) <= max_bits
        if same_set:
            close &= np.arange(columns_from, len(b))[None, :] > np.arange(start, start + len(rows))[:, None]
        total += int(close.sum())
    return total


def write_data_report(data: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    audits = [audit_split(name, ds) for name, ds in load_splits(Path(data)).items()]
    lines = [f"# Data report: `{data}`", ""]
    lines += _overview_table(audits)
    for audit in audits:
        lines += _split_section(audit, out)
    lines += _cross_split_section(audits)
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n")
    return report


def _overview_table(audits: list[SplitAudit]) -> list[str]:
    lines = ["| split | images | " + " | ".join(CLASSES) + " | skipped files |", "|---" * (len(CLASSES) + 3) + "|"]
    for a in audits:
        counts = a.dataset.class_counts()
        skipped = sum(n for reason, n in a.dataset.problems.items() if "skipped" in reason)
        lines.append(
            f"| {a.name} | {len(a.dataset)} | " + " | ".join(str(counts[c]) for c in CLASSES) + f" | {skipped} |"
        )
    return [*lines, ""]


def _split_section(a: SplitAudit, out: Path) -> list[str]:
    ds = a.dataset
    counts = ds.class_counts()
    n = len(ds)
    chart = f"classes_{a.name}.png"
    plot_class_distribution(counts, out / chart, f"{a.name}: images per class")
    lines = [f"## Split `{a.name}`", "", f"![class distribution]({chart})", ""]
    if ds.problems:
        lines.append("Files skipped or altered while loading:")
        lines += [
            f"- {reason}: {count} (e.g. `{ds.problem_examples[reason][0]}`)" for reason, count in ds.problems.items()
        ]
        lines.append("")
    sqrt_weights = class_weights(ds.labels, 0.5) if n else np.zeros(len(CLASSES))
    inverse_weights = class_weights(ds.labels, 1.0) if n else np.zeros(len(CLASSES))
    lines += [
        "| class | images | share | weight 1/freq | weight 1/sqrt(freq) (used in training) |",
        "|---|---|---|---|---|",
    ]
    for i, c in enumerate(CLASSES):
        share = counts[c] / n if n else 0
        lines.append(f"| {c} | {counts[c]} | {share:.1%} | {inverse_weights[i]:.2f} | {sqrt_weights[i]:.2f} |")
    largest, smallest = max(counts.values()), min(v for v in counts.values() if v) if n else 0
    lines += ["", f"Imbalance: largest class / smallest present class = {largest / max(smallest, 1):.1f}.", ""]
    lines += [
        f"- Exact duplicates (pixel-identical to an earlier image of this split): **{a.exact_duplicate_images}**"
        f" ({a.exact_duplicate_conflicts} of them labelled differently from their twin)",
        f"- Near-duplicate pairs (pHash within {NEAR_DUPLICATE_BITS} of 64 bits, exact ones included, blanks excluded):"
        f" **{a.near_duplicate_pairs}**",
        f"- Blank images (pixel std < {BLANK_STD}): **{len(a.blank)}**",
        f"- Low-contrast images ({BLANK_STD} <= std < {LOW_CONTRAST_STD}): **{len(a.low_contrast)}**",
        "",
    ]
    if a.blank or a.low_contrast:
        grid = f"flagged_{a.name}.png"
        flagged = (a.blank + a.low_contrast)[:32]
        save_image_grid(ds.images[flagged], out / grid, title=f"{a.name}: blank and low-contrast (first 32)")
        lines += [f"![blank and low-contrast]({grid})", ""]
    rng = np.random.default_rng(0)
    for i, c in enumerate(CLASSES):
        members = np.flatnonzero(ds.labels == i)
        if len(members) == 0:
            continue
        pick = rng.choice(members, size=min(SAMPLES_PER_CLASS, len(members)), replace=False)
        grid = f"samples_{a.name}_{c}.png"
        save_image_grid(ds.images[np.sort(pick)], out / grid, title=f"{a.name} / {c}")
        lines.append(f"![{c} samples]({grid})")
    return [*lines, ""]


def _cross_split_section(audits: list[SplitAudit]) -> list[str]:
    if len(audits) < 2:
        return []
    lines = ["## Across splits", ""]
    for i, a in enumerate(audits):
        for b in audits[i + 1 :]:
            in_b = set(b.digests)
            shared = sum(digest in in_b for digest in a.digests)
            near = count_close_pairs(a.non_blank_hashes(), b.non_blank_hashes(), same_set=False)
            lines.append(
                f"- `{a.name}` vs `{b.name}`: {shared} images of `{a.name}` are pixel-identical to one in"
                f" `{b.name}`; {near} near-duplicate pairs (pHash within {NEAR_DUPLICATE_BITS} bits, blanks excluded)"
            )
    return [*lines, ""]
