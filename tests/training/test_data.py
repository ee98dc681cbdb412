from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from fer.labels import CLASSES
from fer.training.data import DataError, load_csv, load_csv_splits, load_dataset, load_image_folder


def test_image_folder_reads_subset_of_classes_and_counts_bad_files(image_tree: Path) -> None:
    data = load_image_folder(image_tree)
    # 18 good images + the 96 px one (resized)
    assert len(data) == 19
    assert data.images.shape == (19, 48, 48) and data.images.dtype == np.uint8
    counts = data.class_counts()
    assert counts["angry"] == 6 and counts["happy"] == 6 and counts["sad"] == 7
    assert counts["disgust"] == 0
    assert data.present_classes() == ["angry", "happy", "sad"]
    assert data.problems == Counter(
        {"unreadable image (skipped)": 2, "not an image file (skipped)": 1, "resized to 48x48 (kept)": 1}
    )
    assert all(Path(s).exists() for s in data.sources)


def test_labels_follow_the_fixed_class_order(image_tree: Path) -> None:
    data = load_image_folder(image_tree)
    happy_rows = [i for i, s in enumerate(data.sources) if "/happy/" in s]
    assert set(data.labels[happy_rows]) == {CLASSES.index("happy")}


def test_folder_without_class_folders_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "holiday_photos").mkdir()
    with pytest.raises(DataError, match="no class folders"):
        load_image_folder(tmp_path)


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        load_image_folder(tmp_path / "nope")


def test_csv_reads_rows_and_counts_bad_ones(fer_csv: Path) -> None:
    data = load_csv(fer_csv)
    assert len(data) == 14
    assert list(data.labels[:7]) == list(range(7))
    assert data.problems == Counter(
        {
            "pixels not 48x48 values in 0..255 (skipped)": 2,  # too few values; a NaN
            "label out of range (skipped)": 1,
            "unparsable row (skipped)": 2,  # bad label; a row cut short
        }
    )


def test_csv_with_a_byte_order_mark(fer_csv: Path, tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + fer_csv.read_bytes())
    assert len(load_csv(with_bom)) == 14


def test_csv_splits_are_read_in_one_pass(fer_csv: Path) -> None:
    splits = load_csv_splits(fer_csv)
    # the row cut short has no Usage either: it is counted in a split of its own
    assert {name: len(d) for name, d in splits.items()} == {"Training": 10, "PublicTest": 4, "unlabelled": 0}
    assert sum(splits["Training"].problems.values()) == 4
    assert splits["unlabelled"].problems == Counter({"unparsable row (skipped)": 1})


def test_csv_usage_filter(fer_csv: Path) -> None:
    assert len(load_csv(fer_csv, usage="PublicTest")) == 4
    assert len(load_csv(fer_csv, usage="Training")) == 10


def test_csv_without_required_columns_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="emotion and pixels"):
        load_csv(path)


def test_load_dataset_dispatches_on_layout(image_tree: Path, fer_csv: Path) -> None:
    assert len(load_dataset(image_tree)) == 19
    assert len(load_dataset(fer_csv)) == 14
