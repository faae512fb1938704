"""suite.data.cifar10: split sizes, validation carved from the training set, the lossless mask."""

import numpy as np
import pytest

from conftest import DATA_DIR
from suite.data import cifar10


@pytest.fixture
def fake_dir(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (5100, 32, 32, 3), dtype=np.uint8), "y_train": np.arange(5100) % 10,
              "x_test": rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8), "y_test": np.arange(20) % 10}
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    cifar10.splits.cache_clear()
    yield tmp_path, arrays
    cifar10.splits.cache_clear()


def test_validation_is_the_last_5k_training_images(fake_dir):
    path, arrays = fake_dir
    np.savez(path / "cifar10.npz", **arrays)
    s = cifar10.splits()
    assert len(s.y_train) == 100 and len(s.y_val) == 5000 and len(s.y_test) == 20
    np.testing.assert_allclose(s.x_val[0], arrays["x_train"][100] / 255.0, atol=1e-7)
    assert s.x_train.dtype == np.float32 and 0 <= s.x_train.min() and s.x_train.max() <= 1
    assert s.test_lossless is None  # no mask in the file: all exact
    s = cifar10.splits(train_size=10, test_size=5)
    assert len(s.y_train) == 10 and len(s.y_test) == 5 and len(s.y_val) == 5000


def test_lossless_mask_is_read_and_sliced(fake_dir):
    path, arrays = fake_dir
    mask = np.arange(20) < 8
    np.savez(path / "cifar10.npz", **arrays, test_lossless=mask)
    s = cifar10.splits()
    np.testing.assert_array_equal(s.test_lossless, mask)
    assert "(8 exact)" in s.sizes()
    np.testing.assert_array_equal(cifar10.splits(test_size=10).test_lossless, mask[:10])


def test_real_copy_has_the_canonical_statistics():
    if not (DATA_DIR / "cifar10.npz").is_file():
        pytest.skip(f"no CIFAR-10 copy in {DATA_DIR}")
    cifar10.splits.cache_clear()
    x_train, y_train, _, y_test = cifar10.load_raw()
    assert x_train.shape == (50000, 32, 32, 3) and np.bincount(y_test).tolist() == [1000] * 10
    np.testing.assert_allclose((x_train / 255.0).mean(axis=(0, 1, 2)), cifar10.MEAN, atol=5e-4)
    s = cifar10.splits(train_size=100, test_size=1000)
    assert s.test_lossless is not None and s.test_lossless.all()
