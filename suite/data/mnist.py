"""MNIST with the seed protocol's split: the last 5,000 training images are the validation set."""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from suite.data import store

VALIDATION = 5000


@dataclass(frozen=True)
class Split:
    """Float32 images in [0, 1] (N, 28, 28) and int64 labels for train, validation and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def sizes(self):
        return f"{len(self.y_train)} train / {len(self.y_val)} validation / {len(self.y_test)} test"


def load_raw():
    """`(x_train, y_train, x_test, y_test)` as uint8 images and int labels."""
    return store.load("mnist", (28, 28), 10, store.download_tfds("mnist"))


@lru_cache(maxsize=2)
def splits(train_size=None):
    """The 55k/5k/10k split of the seed protocol, training set cut to its first `train_size` images.

    Cached: arms of a study share one copy (treat the arrays as read-only).
    """
    x_train, y_train, x_test, y_test = load_raw()
    x_val, y_val = x_train[-VALIDATION:], y_train[-VALIDATION:]
    x_train, y_train = x_train[:-VALIDATION], y_train[:-VALIDATION]
    if train_size is not None:
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    scale = lambda x: x.astype(np.float32) / 255.0  # noqa: E731
    return Split(scale(x_train), y_train, scale(x_val), y_val, scale(x_test), y_test)
