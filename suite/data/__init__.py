"""Datasets: local npz copies first, then a user cache, then a download (DESIGN.md section 8)."""

import importlib


def require(names):
    """Make sure each named dataset (`"mnist"`, `"cifar10"`) is at hand before a study starts.

    A local copy is only located, not read; without one the dataset is downloaded now, or the
    one-line error naming the file to provide is raised before anything is announced or trained.
    """
    from suite.data import store

    for name in names:
        if not any(path.is_file() for path in store.candidates(name)):
            importlib.import_module(f"suite.data.{name}").load_raw()
