"""MNIST with the seed protocol's split: the last 5,000 training images are the validation set."""

from functools import lru_cache

from suite.data import store

VALIDATION = 5000


def load_raw():
    """`(x_train, y_train, x_test, y_test)` as uint8 images and int labels."""
    return store.load("mnist", (28, 28), 10, store.download_tfds("mnist"))


@lru_cache(maxsize=2)
def splits(train_size=None):
    """The 55k/5k/10k split of the seed protocol, training set cut to its first `train_size` images.

    Cached: arms of a study share one copy (treat the arrays as read-only).
    """
    return store.split(load_raw(), VALIDATION, train_size)
