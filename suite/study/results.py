"""The results store: one JSON record per (stage, arm, seed), written atomically, read back as `Runs`.

Layout: `<root>/<task>/<backend>/<profile>/<stage>/<arm>/seed<k>.json`, and beside it the run's
artifacts (weights, large arrays) in `seed<k>.artifacts/`, which are never committed. Different
backends and profiles never share a file, so concurrent runs on different backends cannot
clobber each other.
"""

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from suite import SuiteError


def write_atomic(path, data):
    """Write `data` (str or bytes) to `path` through a temporary file and a rename.

    Readers never see half a file, and a crash leaves the old file (or none) in place.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise SuiteError(f"cannot write to {path.parent}: {e.strerror}. Choose a writable folder.") from None
    try:
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def as_stored(obj):
    """`obj` as it reads back from the store (tuples become lists, numpy becomes Python)."""
    return json.loads(json.dumps(_jsonable(obj)))


def write_json(path, obj):
    """Atomically write `obj` (numpy values allowed) as compact JSON."""
    write_atomic(path, json.dumps(_jsonable(obj), separators=(",", ":")))


class ResultStore:
    """Where one task's results on one backend and profile live.

    Args:
        root: the results folder (e.g. `results/`).
        task: task id, e.g. `"task07"`.
        backend: Keras backend name.
        profile: profile label (its name, plus `--epochs`/`--subset` overrides).
    """

    def __init__(self, root, task, backend, profile):
        self.dir = Path(root) / task / backend / profile

    def path(self, stage, arm, seed):
        return self.dir / stage / arm / f"seed{seed}.json"

    def artifact_dir(self, stage, arm, seed):
        """The folder of a run's artifacts (created by the runner before the run trains)."""
        return self.dir / stage / arm / f"seed{seed}.artifacts"

    def failure_path(self, stage, arm, seed):
        return self.dir / stage / arm / f"failed-seed{seed}.json"

    def save_failure(self, stage, arm, seed, error):
        """Record that a cell raised (or its worker died for good); a rerun retries it."""
        write_json(self.failure_path(stage, arm, seed), {"stage": stage, "arm": arm, "seed": seed, "error": error})

    def forget_failure(self, stage, arm, seed):
        self.failure_path(stage, arm, seed).unlink(missing_ok=True)

    def failures(self):
        """The failure notes of cells that have no stored record, oldest path first."""
        notes = [json.loads(p.read_text()) for p in sorted(self.dir.glob("*/*/failed-seed*.json"))]
        return [n for n in notes if not self.has(n["stage"], n["arm"], n["seed"])]

    @contextlib.contextmanager
    def lock(self):
        """Hold this store for one run: a second run of the same task, backend and profile stops
        with an error instead of writing beside it."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise SuiteError(f"cannot write to {self.dir}: {e.strerror}. Choose a writable folder.") from None
        with open(self.dir / ".lock", "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SuiteError(f"another run is writing to {self.dir}; wait for it to finish or stop it") from None
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def fresh_artifact_dir(self, stage, arm, seed):
        """An empty artifact folder for a run about to train (a stale one is removed)."""
        folder = self.artifact_dir(stage, arm, seed)
        shutil.rmtree(folder, ignore_errors=True)
        try:
            folder.mkdir(parents=True)
        except OSError as e:
            raise SuiteError(f"cannot write to {folder.parent}: {e.strerror}. Choose a writable folder.") from None
        return folder

    def missing_artifacts(self, record, names=None):
        """Of `names` (default: the ones the record lists), those not on disk."""
        folder = self.artifact_dir(record["stage"], record["arm"], record["seed"])
        names = record.get("artifacts", []) if names is None else names
        return [n for n in names if not (folder / n).is_file()]

    def has(self, stage, arm, seed):
        return self.path(stage, arm, seed).is_file()

    def load_one(self, stage, arm, seed):
        path = self.path(stage, arm, seed)
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise SuiteError(f"unreadable result {path}: {e}. Delete it and rerun to redo that arm.") from None

    def save(self, record):
        write_json(self.path(record["stage"], record["arm"], record["seed"]), record)

    def load(self, stage):
        """All records of a stage as `Runs` (empty if none were stored)."""
        paths = sorted((self.dir / stage).glob("*/seed*.json"))
        records = [self.load_one(stage, p.parent.name, int(p.stem[4:])) for p in paths]
        return Runs(sorted(records, key=lambda r: r.get("finished", "")), stage)  # the order they ran in

    def stages(self):
        """The stages with stored runs, in the order their first run finished."""
        found = [(min((p.stat().st_mtime for p in d.glob("*/seed*.json")), default=None), d.name)
                 for d in self.dir.iterdir() if d.is_dir()] if self.dir.is_dir() else []
        return [name for t, name in sorted(f for f in found if f[0] is not None)]

    def clear(self):
        """Delete every stored record and artifact of this task, backend and profile (`--fresh`)."""
        for folder in sorted(self.dir.rglob("seed*.artifacts")):
            shutil.rmtree(folder)
        for path in sorted(self.dir.rglob("*.json"), reverse=True):
            path.unlink()  # records and failure notes


class SeedValues(np.ndarray):
    """Per-seed values of one arm (a float array) that remember their seeds, so that two arms run
    with the same seeds are compared seed by seed (`suite.report.stats.compare`).

    Elementwise arithmetic keeps the seeds of its first operand; slicing, sorting, masking and
    reductions drop them (the result is then compared unpaired, never mispaired).
    """

    def __new__(cls, values, seeds):
        out = np.asarray(values, dtype=float).view(cls)
        out.seeds = tuple(int(s) for s in seeds)
        if out.ndim != 1 or len(out.seeds) != out.size:
            raise ValueError(f"{out.size} values but {len(out.seeds)} seeds")
        return out

    def __array_finalize__(self, obj):
        self.seeds = None

    def __array_wrap__(self, out, context=None, return_scalar=False):
        out = super().__array_wrap__(out, context, return_scalar)
        if isinstance(out, SeedValues) and context is not None and out.shape == self.shape:
            out.seeds = self.seeds
        return out

    def __reduce__(self):  # pickles as a plain array
        return np.asarray(self).__reduce__()


class Runs:
    """Stored records of one stage, with helpers to pull metrics across seeds.

    Asking for an arm, metric or curve that no stored run has raises a `SuiteError` naming the
    ones that exist (a mistyped name never turns into NaN); a seed that lacks a metric the
    others have (e.g. it diverged) gives NaN.
    """

    def __init__(self, records, stage="main"):
        self.records = list(records)
        self.stage = stage

    def __len__(self):
        return len(self.records)

    def __iter__(self):
        return iter(self.records)

    def arms(self):
        """Arm names in first-seen order."""
        return list(dict.fromkeys(r["arm"] for r in self.records))

    def of(self, arm):
        found = [r for r in self.records if r["arm"] == arm]
        if not found:
            raise SuiteError(f"no stored {self.stage} run has arm {arm!r}; arms: {', '.join(self.arms()) or 'none'}")
        return found

    def config(self, arm):
        return self.of(arm)[0]["config"]

    def metric(self, arm, key):
        """One value per seed of `metrics[key]` (NaN where a seed lacks it, e.g. diverged), as
        `SeedValues` that know their seeds, so arms with shared seeds compare seed by seed."""
        records = self.of(arm)
        self._check(records, "metrics", key, arm)
        return SeedValues([r["metrics"].get(key, np.nan) for r in records], [r["seed"] for r in records])

    def has_metric(self, arm, key):
        """Whether any stored run of `arm` has `metrics[key]`."""
        return any(key in r["metrics"] for r in self.of(arm))

    def _check(self, records, field, key, arm):
        if any(key in r.get(field, {}) for r in records) or all(r.get("status") != "ok" for r in records):
            return
        known = sorted({k for r in records for k in r.get(field, {})})
        raise SuiteError(f"no stored {self.stage} run of arm {arm!r} has {field} {key!r}; "
                         f"it has: {', '.join(known) or 'none'}")

    def history(self, arm, key):
        """Per-epoch curves of `history[key]`, seeds x epochs, NaN-padded to the longest run."""
        records = self.of(arm)
        self._check(records, "history", key, arm)
        curves = [r["history"].get(key, []) for r in records]
        width = max((len(c) for c in curves), default=0)
        out = np.full((len(curves), width), np.nan)
        for i, c in enumerate(curves):
            out[i, : len(c)] = np.array(c, dtype=float)
        return out

    def to_frame(self):
        """One row per run: keys, status, config.<key> and metrics.<key> columns (`suite.study.tidy`)."""
        from suite.study import tidy

        return tidy.runs_frame(self.records)

    def curves_frame(self):
        """One row per (run, epoch, metric) of the training and probe curves (`suite.study.tidy`)."""
        from suite.study import tidy

        return tidy.curves_frame(self.records)

    def where(self, **config):
        """The records whose config matches every given key."""
        return Runs((r for r in self.records if all(r["config"].get(k) == v for k, v in config.items())), self.stage)
