"""CIFAR-10 with a validation split carved from the training set: the last 5,000 training images.

The offline copy (`$SUITE_DATA_DIR/cifar10.npz`, see `../shared/data/README.md`) has an exact
training set, but only its first 1,000 test images are lossless; the rest were recovered from
JPEG copies. Its `test_lossless` mask is read here so that tasks can report accuracy on the
exact subset too. A copy without the mask (a download, the user cache) is taken as all exact.
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from suite.data import store

VALIDATION = 5000
SHAPE = (32, 32, 3)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Per-channel mean and standard deviation of the 50k training images in [0, 1] (the usual constants).
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


@dataclass(frozen=True)
class Split:
    """Float32 images in [0, 1] (N, 32, 32, 3), int64 labels, and which test images are exact.

    `test_lossless` is a boolean mask over the test set, or `None` when every test image is
    exact (a copy without the mask).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_lossless: np.ndarray | None

    def sizes(self):
        exact = "" if self.test_lossless is None else f" ({int(self.test_lossless.sum())} exact)"
        return f"{len(self.y_train)} train / {len(self.y_val)} validation / {len(self.y_test)} test{exact}"


def _lossless_mask(n_test):
    """The `test_lossless` mask of the npz the loader reads, or `None` if that file has none."""
    for path in store._candidates("cifar10"):
        if path.is_file():
            with np.load(path, allow_pickle=False) as f:
                if "test_lossless" not in f.files:
                    return None
                mask = np.asarray(f["test_lossless"], dtype=bool).reshape(-1)
            return mask if mask.shape == (n_test,) else None
    return None


def load_raw():
    """`(x_train, y_train, x_test, y_test)` as uint8 images (N, 32, 32, 3) and int labels."""
    return store.load("cifar10", SHAPE, len(CLASSES), store.download_tfds("cifar10"))


@lru_cache(maxsize=2)
def splits(train_size=None, test_size=None):
    """45k/5k/10k: validation = the last 5k training images; test reported only.

    Args:
        train_size: keep the first `train_size` of the 45k training images (`None`: all).
        test_size: keep the first `test_size` test images (`None`: all). The offline copy's
            exact images come first, so a small test slice is exact.

    Cached: arms of a study share one copy (treat the arrays as read-only).
    """
    x_train, y_train, x_test, y_test = load_raw()
    mask = _lossless_mask(len(y_test))
    x_val, y_val = x_train[-VALIDATION:], y_train[-VALIDATION:]
    x_train, y_train = x_train[:-VALIDATION], y_train[:-VALIDATION]
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    if test_size is not None:
        x_test, y_test = x_test[:test_size], y_test[:test_size]
        mask = None if mask is None else mask[:test_size]
    scale = lambda x: x.astype(np.float32) / 255.0  # noqa: E731
    return Split(scale(x_train), y_train, scale(x_val), y_val, scale(x_test), y_test, mask)
