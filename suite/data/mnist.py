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


@lru_cache(maxsize=2)
def train_test(train_size=None):
    """All 60k training images (cut to the first `train_size`) and the 10k test set, no validation
    split (the seeds/000 protocol): the test set is also the per-epoch evaluation set, so
    `val_*` curves are test curves. Cached like `splits`."""
    x_train, y_train, x_test, y_test = load_raw()
    x_train, y_train = x_train[:train_size].astype("float32") / 255.0, y_train[:train_size]
    x_test = x_test.astype("float32") / 255.0
    return store.Split(x_train, y_train, x_test, y_test, x_test, y_test)
