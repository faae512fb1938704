import json
import os

import numpy as np
import pytest

from suite import SuiteError
from suite.study.results import ResultStore, Runs, as_stored, write_atomic, write_json


def record(arm, seed, acc, hist, stage="main"):
    return {"stage": stage, "arm": arm, "seed": seed, "config": {"lr": 0.1, "name": arm},
            "metrics": {"test_accuracy": acc}, "history": {"val_loss": hist}, "finished": f"t{seed}{arm}"}


def test_store_roundtrip_and_runs_helpers(tmp_path):
    store = ResultStore(tmp_path, "task99", "jax", "smoke")
    store.save(record("a", 0, 0.9, [1.0, 0.5]))
    store.save(record("a", 1, np.float32(0.8), np.array([1.0, 0.4, 0.3])))
    store.save(record("b", 0, float("nan"), [2.0]))
    assert store.has("main", "a", 1) and not store.has("main", "a", 2)
    runs = store.load("main")
    assert len(runs) == 3 and set(runs.arms()) == {"a", "b"}
    assert runs.metric("a", "test_accuracy") == pytest.approx([0.9, 0.8])
    h = runs.history("a", "val_loss")
    assert h.shape == (2, 3) and np.isnan(h[0, 2])
    assert np.isnan(runs.metric("b", "test_accuracy")[0])
    assert len(runs.where(lr=0.1)) == 3 and len(runs.where(lr=0.2)) == 0
    assert store.path("main", "a", 0) == tmp_path / "task99" / "jax" / "smoke" / "main" / "a" / "seed0.json"


def test_backends_and_profiles_never_share_files(tmp_path):
    paths = {ResultStore(tmp_path, "t", b, p).path("main", "a", 0) for b in ("jax", "torch") for p in ("smoke", "quick")}
    assert len(paths) == 4


def test_write_atomic_keeps_old_file_when_the_write_fails(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    write_json(target, {"v": 1})

    def crash(*args):
        raise KeyboardInterrupt  # e.g. Ctrl-C between writing and renaming

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, '{"v": 2}')
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left behind


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SuiteError, match="cannot write"):
        write_atomic(blocker / "sub" / "x.json", "{}")


def test_corrupt_record_is_a_clear_error(tmp_path):
    store = ResultStore(tmp_path, "t", "jax", "smoke")
    store.path("main", "a", 0).parent.mkdir(parents=True)
    store.path("main", "a", 0).write_text('{"half": ')
    with pytest.raises(SuiteError, match="unreadable result"):
        store.load("main")


def test_clear_and_as_stored(tmp_path):
    store = ResultStore(tmp_path, "t", "jax", "smoke")
    store.save(record("a", 0, 0.9, [1.0]))
    store.clear()
    assert len(store.load("main")) == 0
    assert as_stored({"t": (1, 2), "x": np.float64(0.5)}) == {"t": [1, 2], "x": 0.5}
    assert len(Runs([])) == 0
