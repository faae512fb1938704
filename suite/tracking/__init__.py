"""`--track mlflow|tensorboard`: a study's stored cells mirrored into an experiment tracker.

A tracker has `cell(record)` (called by the runner after a cell is stored; by the driver under
`--workers N`), `sync(store)` (after the run: every stored record and failure note not logged
yet, e.g. cells resumed from an earlier run) and, where it keeps files, `writeup(path)` (after
the writeup is written). It logs from the stored records only, so every backend and `--workers`
log the same.
Nothing here imports MLflow or TensorFlow until a tracker is opened.
"""

import importlib
import importlib.util

from suite import SuiteError

NEEDS = {"mlflow": ("mlflow",), "tensorboard": ("tensorflow", "tensorboard")}


def names(text):
    """`--track` values (`mlflow`, `tensorboard`, or both comma-separated) as a tuple, checked."""
    found = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in found if n not in NEEDS]
    if unknown or not found:
        raise SuiteError(f"unknown tracker {', '.join(unknown) or repr(text)}; choose from {', '.join(NEEDS)}")
    return found


def require(trackers):
    """One clear error, before anything trains, when a tracker's packages are not installed."""
    for name in trackers:
        missing = [m for m in NEEDS[name] if importlib.util.find_spec(m) is None]
        if missing:
            raise SuiteError(f"--track {name} needs {' and '.join(missing)}: pip install -e \".[tracking]\""
                             + (" plus tensorflow-cpu" if "tensorflow" in missing else ""))


def open_trackers(trackers, results_dir, task, backend, profile):
    """The named trackers, opened for one task, backend and profile label."""
    require(trackers)
    return [importlib.import_module(f"suite.tracking.{name}").Tracker(results_dir, task, backend, profile)
            for name in trackers]


def log_writeup(trackers, path, results_dir, task, backends, profile):
    """Attach the writeup at `path` to the study of `task` on each of `backends` in the trackers that keep files."""
    require(trackers)
    for name in trackers:
        module = importlib.import_module(f"suite.tracking.{name}")
        if hasattr(module.Tracker, "writeup"):
            for backend in backends:
                module.Tracker(results_dir, task, backend, profile).writeup(path)
