"""CIFAR-10 with a validation split carved from the training set: the last 5,000 training images.

The offline copy (`$SUITE_DATA_DIR/cifar10.npz`, see `../shared/data/README.md`) has an exact
training set, but only its first 1,000 test images are lossless; the rest were recovered from
JPEG copies. Its `test_lossless` mask is read here so that tasks can report accuracy on the
exact subset too. A copy without the mask (a download, the user cache) is taken as all exact.
"""

from functools import lru_cache

import numpy as np

from suite.data import store

VALIDATION = 5000
SHAPE = (32, 32, 3)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Per-channel mean and standard deviation of the 50k training images in [0, 1] (the usual constants).
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)


def _lossless_mask(n_test):
    """The `test_lossless` mask of the npz the loader reads, or `None` if that file has none."""
    for path in store.candidates("cifar10"):
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
    arrays = load_raw()
    return store.split(arrays, VALIDATION, train_size, test_size, _lossless_mask(len(arrays[3])))
