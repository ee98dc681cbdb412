import numpy as np
import pytest

from fer.engine.preprocess import prepare_faces, to_gray48


@pytest.mark.parametrize("shape", [(48, 48), (10, 7), (300, 200), (61, 61, 3), (20, 30, 4), (48, 48, 1)])
def test_any_crop_becomes_48x48_gray(shape: tuple[int, ...]) -> None:
    crop = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    assert to_gray48(crop).shape == (48, 48)


def test_batch_of_mixed_sizes_is_standardised() -> None:
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, size=s, dtype=np.uint8) for s in [(48, 48), (100, 80, 3), (12, 12)]]
    batch = prepare_faces(crops)
    assert batch.shape == (3, 48, 48, 1) and batch.dtype == np.float32
    np.testing.assert_allclose(batch.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(batch.std(axis=(1, 2, 3)), 1, atol=1e-3)


def test_blank_crop_stays_finite() -> None:
    batch = prepare_faces([np.full((40, 40), 128, np.uint8)])
    assert np.isfinite(batch).all() and np.abs(batch).max() == 0


def test_float_crop_is_clipped_not_wrapped() -> None:
    crop = np.full((48, 48), 300.0)
    assert to_gray48(crop).max() == 255


def test_empty_batch() -> None:
    assert prepare_faces([]).shape == (0, 48, 48, 1)


def test_empty_crop_is_rejected() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        to_gray48(np.zeros((0, 10), np.uint8))


def test_float_batch_takes_the_same_path_as_a_list() -> None:
    batch = np.full((1, 48, 48), 300.0)
    np.testing.assert_array_equal(prepare_faces(batch), prepare_faces([batch[0]]))


def test_a_single_colour_crop_passed_as_an_array_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"pass a single crop as \[crop\]"):
        prepare_faces(np.zeros((64, 64, 3), np.uint8))
