"""Find, validate and cache keras-style npz datasets (`x_train`, `y_train`, `x_test`, `y_test`).

Lookup order: `$SUITE_DATA_DIR/<name>.npz`, the user cache (`$SUITE_CACHE_DIR`, default
`~/.cache/keras-dynamics-suite`), then a download whose arrays are cached as npz (never with
`SUITE_OFFLINE=1`). Every way of
failing ends in one `SuiteError` that names the file to provide.
"""

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from suite import SuiteError

KEYS = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True)
class Split:
    """Inputs and targets for training, validation and (optionally) test: arrays of any shape and dtype.

    Images, sequences, per-step labels or soft labels alike; an autoencoder's targets are its
    inputs. `x_test` and `y_test` are `None` for data without a test set. `test_lossless` is a
    boolean mask of the test examples that are exact, or `None` when all are (see
    `suite.data.cifar10`).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    test_lossless: np.ndarray | None = None

    def sizes(self):
        sizes = f"{len(self.y_train)} train / {len(self.y_val)} validation"
        if self.y_test is None:
            return sizes
        exact = "" if self.test_lossless is None else f" ({int(self.test_lossless.sum())} exact)"
        return f"{sizes} / {len(self.y_test)} test{exact}"


def split(arrays, validation, train_size=None, test_size=None, test_lossless=None, scale=255.0):
    """A `Split` of `(x_train, y_train, x_test, y_test)`: validation = the last `validation`
    training examples, the training set cut to its first `train_size`, the test set (and its
    mask) to its first `test_size`; inputs divided by `scale` as float32 (the default turns
    uint8 pixels into [0, 1]; `None` keeps them as they are)."""
    x_train, y_train, x_test, y_test = arrays
    x_val, y_val = x_train[-validation:], y_train[-validation:]
    x_train, y_train = x_train[:-validation][:train_size], y_train[:-validation][:train_size]
    x_test, y_test = x_test[:test_size], y_test[:test_size]
    mask = None if test_lossless is None else test_lossless[:test_size]
    if scale is not None:
        x_train, x_val, x_test = (x.astype(np.float32) / scale for x in (x_train, x_val, x_test))
    return Split(x_train, y_train, x_val, y_val, x_test, y_test, mask)


def cache_dir():
    return Path(os.environ.get("SUITE_CACHE_DIR", Path.home() / ".cache" / "keras-dynamics-suite"))


def candidates(name):
    env = os.environ.get("SUITE_DATA_DIR")
    if env:
        if not Path(env).is_dir():
            raise SuiteError(f"SUITE_DATA_DIR={env} is not a folder: point it at the folder holding {name}.npz")
        yield Path(env) / f"{name}.npz"
    yield cache_dir() / f"{name}.npz"


def read_npz(path, image_shape, classes):
    """Read and validate one npz file; returns the four arrays in `KEYS` order."""
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in KEYS if k not in f.files]
            if missing:
                raise SuiteError(f"{path} lacks {', '.join(missing)}: a dataset npz needs {', '.join(KEYS)}")
            arrays = {k: f[k] for k in KEYS}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise SuiteError(f"{path} is not a readable npz file ({type(e).__name__}): replace it with a good copy") from None
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.shape[1:] != tuple(image_shape):
            raise SuiteError(f"{path}: x_{split} must be uint8 of shape (N, {', '.join(map(str, image_shape))}), "
                             f"got {x.dtype} {x.shape}")
        y = y.reshape(-1)
        if y.shape[0] != x.shape[0] or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= classes:
            raise SuiteError(f"{path}: y_{split} must hold {x.shape[0]} integer labels in 0..{classes - 1}")
        arrays[f"y_{split}"] = y.astype(np.int64)
    return tuple(arrays[k] for k in KEYS)


def load(name, image_shape, classes, download):
    """Return `(x_train, y_train, x_test, y_test)` for dataset `name`.

    Args:
        name: file stem, e.g. `"mnist"` for `mnist.npz`.
        image_shape: shape of one image, e.g. `(28, 28)`.
        classes: number of classes (labels must lie in `0..classes-1`).
        download: a function returning the four arrays from the internet; any exception it
            raises means "not available" and ends in one clear error.
    """
    for path in candidates(name):
        if path.is_file():
            return read_npz(path, image_shape, classes)
    cached = cache_dir() / f"{name}.npz"
    try:
        if os.environ.get("SUITE_OFFLINE"):
            raise ConnectionError("SUITE_OFFLINE is set")
        arrays = download()
    except Exception as e:  # any failure to fetch is the same user-facing problem
        raise SuiteError(
            f"{name}.npz not found and the download failed ({type(e).__name__}): put {name}.npz "
            f"({', '.join(KEYS)}, uint8 images) in $SUITE_DATA_DIR or {cache_dir()}") from None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **dict(zip(KEYS, arrays)))
        os.replace(tmp, cached)
    except OSError:
        pass  # caching is a convenience; the arrays are already in memory
    return read_npz(cached, image_shape, classes) if cached.is_file() else arrays


def download_tfds(tfds_name):
    """A `download` function using tensorflow-datasets, falling back to `keras.datasets`."""

    def fetch():
        try:
            import tensorflow_datasets as tfds

            train, test = tfds.as_numpy(tfds.load(tfds_name, split=["train", "test"], batch_size=-1, as_supervised=True))
            x_train, y_train = train
            x_test, y_test = test
            squeeze = (lambda x: x[..., 0]) if x_train.shape[-1] == 1 else (lambda x: x)
            return squeeze(x_train), y_train, squeeze(x_test), y_test
        except ImportError:
            import keras

            (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, tfds_name).load_data()
            return x_train, y_train, x_test, y_test

    return fetch
