import numpy as np
import pytest

from suite import SuiteError
from suite.data import mnist, store


def _npz(path, **overrides):
    arrays = {"x_train": np.zeros((6, 28, 28), np.uint8), "y_train": np.arange(6) % 10,
              "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.array([1, 2])}
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_reads_a_valid_file(tmp_path):
    x_train, y_train, x_test, y_test = store.read_npz(_npz(tmp_path / "m.npz"), (28, 28), 10)
    assert x_train.shape == (6, 28, 28) and y_train.dtype == np.int64 and list(y_test) == [1, 2]


@pytest.mark.parametrize("overrides, message", [
    ({"y_test": None}, "lacks y_test"),
    ({"x_train": np.zeros((6, 32, 32), np.uint8)}, "x_train must be uint8 of shape"),
    ({"x_test": np.zeros((2, 28, 28), np.float32)}, "x_test must be uint8"),
    ({"y_train": np.arange(6) + 10}, "labels in 0..9"),
    ({"y_train": np.arange(5)}, "must hold 6 integer labels"),
])
def test_bad_files_are_named_with_the_problem(tmp_path, overrides, message):
    with pytest.raises(SuiteError, match=message):
        store.read_npz(_npz(tmp_path / "m.npz", **overrides), (28, 28), 10)


def test_corrupt_file(tmp_path):
    bad = tmp_path / "mnist.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SuiteError, match="not a readable npz"):
        store.read_npz(bad, (28, 28), 10)


def test_lookup_order_and_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("SUITE_OFFLINE")  # the fake download below never touches the network
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    calls = []

    def download():
        calls.append(1)
        return (np.ones((3, 28, 28), np.uint8), np.array([0, 1, 2]), np.ones((1, 28, 28), np.uint8), np.array([3]))

    first = store.load("fake", (28, 28), 10, download)
    again = store.load("fake", (28, 28), 10, download)  # now from the cache
    assert calls == [1] and (tmp_path / "cache" / "fake.npz").is_file()
    assert np.array_equal(first[1], again[1])
    _npz(tmp_path / "data" / "fake.npz")  # a local copy wins over the cache
    assert len(store.load("fake", (28, 28), 10, download)[0]) == 6


def test_failed_download_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("SUITE_OFFLINE")
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path / "cache"))

    def offline():
        raise OSError("no network")

    with pytest.raises(SuiteError, match=r"fake.npz not found and the download failed \(OSError\)"):
        store.load("fake", (28, 28), 10, offline)


def test_real_mnist_split(mnist_available):
    split = mnist.splits(1000)
    assert split.x_train.shape == (1000, 28, 28) and split.x_val.shape == (5000, 28, 28)
    assert split.x_test.shape == (10000, 28, 28) and 0 <= split.x_train.min() and split.x_train.max() <= 1
    assert list(split.y_train[:5]) == [5, 0, 4, 1, 9]  # canonical order
    x_train, _, _, _ = mnist.load_raw()
    assert np.array_equal(split.x_val[0], x_train[55000] / np.float32(255))  # validation = last 5k
