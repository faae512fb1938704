"""The runner on tiny synthetic tasks: stages, seeds, resume, --fresh, stale configs, divergence,
artifacts, upstream runs and task options."""

import types
from dataclasses import dataclass

import keras
import numpy as np
import pytest

from suite import SuiteError
from suite.study import registry, runner
from suite.study.options import option
from suite.study.stages import Stage
from suite.study.profiles import make_profile
from suite.data.store import Split
from suite.models.mlp import mlp
from suite.training.fit import fit_classifier


@dataclass(frozen=True)
class Config:
    name: str
    lr: float
    epochs: int = 2


def _split(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((96, 4, 4), dtype=np.float32)
    y = (x.reshape(96, -1).mean(1) > 0.5).astype(np.int64)
    return Split(x[:64], y[:64], x[64:80], y[64:80], x[80:], y[80:])


def _task(lrs, calls):
    def train(c, ctx):
        calls.append((c.name, ctx.seed))
        model = mlp(hidden=(8,), input_shape=(4, 4), classes=2)
        return fit_classifier(model, _split(), keras.optimizers.SGD(c.lr), c.epochs, 16)

    return types.SimpleNamespace(stages=lambda profile, options: [Stage("main", [Config(f"lr{lr:g}", lr) for lr in lrs])],
                                 train=train)


def _untimed(metrics):
    return {k: v for k, v in metrics.items() if "seconds" not in k}


ENTRY = registry.Entry("task99", "Task99_Test.md", "test", "q?", ())


def test_runs_every_arm_and_seed_then_resumes_without_retraining(tmp_path):
    calls = []
    profile = make_profile("quick", seeds=2)
    store = runner.run_module(ENTRY, _task([0.1, 0.01], calls), profile, tmp_path)
    assert sorted(calls) == [("lr0.01", 0), ("lr0.01", 1), ("lr0.1", 0), ("lr0.1", 1)]
    runs = store.load("main")
    assert len(runs) == 4 and all(r["status"] == "ok" for r in runs)
    first = {(r["arm"], r["seed"]): _untimed(r["metrics"]) for r in runs}

    store.path("main", "lr0.1", 1).unlink()  # as if killed before this run was stored
    calls.clear()
    runner.run_module(ENTRY, _task([0.1, 0.01], calls), profile, tmp_path)
    assert calls == [("lr0.1", 1)]
    again = {(r["arm"], r["seed"]): _untimed(r["metrics"]) for r in store.load("main")}
    assert again == first  # the redone run reproduces the lost one exactly (same seed, CPU)

    calls.clear()
    runner.run_module(ENTRY, _task([0.1, 0.01], calls), profile, tmp_path, fresh=True)
    assert len(calls) == 4


def test_stored_results_of_another_config_are_not_mixed_in(tmp_path):
    runner.run_module(ENTRY, _task([0.1], []), make_profile("smoke"), tmp_path)
    other = _task([0.1], [])
    other.stages = lambda profile, options: [Stage("main", [Config("lr0.1", 0.1, epochs=3)])]
    with pytest.raises(SuiteError, match="stored with another config.*--fresh"):
        runner.run_module(ENTRY, other, make_profile("smoke"), tmp_path)


@dataclass(frozen=True)
class Options:
    images: tuple[str, ...] = option((), "images")


def test_stored_results_made_with_other_options_are_not_mixed_in(tmp_path):
    task = _task([0.1], [])
    task.Options = Options
    runner.run_module(ENTRY, task, make_profile("smoke"), tmp_path, options=Options(("a.png",)))
    runner.run_module(ENTRY, task, make_profile("smoke"), tmp_path, options=Options(("a.png",)))
    with pytest.raises(SuiteError, match="other options.*--fresh"):
        runner.run_module(ENTRY, task, make_profile("smoke"), tmp_path, options=Options(("b.png",)))


def test_a_diverging_arm_is_recorded_and_the_study_goes_on(tmp_path):
    store = runner.run_module(ENTRY, _task([1e30, 0.1], []), make_profile("smoke"), tmp_path)
    runs = {r["arm"]: r for r in store.load("main")}
    assert runs["lr1e+30"]["status"] == "diverged"
    assert runs["lr1e+30"]["diverged_epoch"] == 1
    assert len(runs["lr1e+30"]["history"]["loss"]) == 1  # stopped after the first non-finite epoch
    assert "test_accuracy" not in runs["lr1e+30"]["metrics"]
    assert runs["lr0.1"]["status"] == "ok" and runs["lr0.1"]["metrics"]["test_accuracy"] >= 0


def test_records_say_what_produced_them(tmp_path):
    store = runner.run_module(ENTRY, _task([0.1], []), make_profile("smoke"), tmp_path)
    env = store.load("main").records[0]["env"]
    for key in ("python", "keras", "backend", "backend_version", "device", "cpu", "command", "git_commit"):
        assert env[key], key
    assert env["git_dirty"] in (True, False)  # this test runs inside the repository's checkout
    assert env["backend"] == keras.backend.backend()
