"""`--workers N`: a stage's cells in several processes, the same records as one after another,
and faults (a cell that raises, a worker that dies, two runs on one store)."""

import json
import textwrap

import pytest

from suite import SuiteError
from suite.study import registry, runner
from suite.study.profiles import make_profile

STUDY = textwrap.dedent('''
    import os
    from dataclasses import dataclass
    from pathlib import Path

    import keras
    import numpy as np

    from suite.data.store import Split
    from suite.models.mlp import mlp
    from suite.study.stages import Stage
    from suite.training.fit import fit_classifier

    TITLE, REPORT, QUESTION = "parallel", "Parallel.md", "q?"
    HERE = Path(__file__).parent


    @dataclass(frozen=True)
    class Config:
        name: str
        lr: float
        epochs: int = 2


    def stages(profile, options):
        return [Stage("select", [Config("pick", 0.1)], seeds="one"),
                Stage("main", lambda done: [Config(n, lr) for n, lr in (("a", 0.1), ("b", 0.05), ("bad", 0.1))],
                      needs=("select",))]


    def train(c, ctx):
        if c.name == "bad" and (HERE / "raise").exists():
            raise RuntimeError("this cell is broken")
        if c.name == "b" and ctx.seed == 1 and not (HERE / "died").exists():
            (HERE / "died").write_text("")
            os._exit(1)  # as if the worker were killed mid-cell
        rng = np.random.default_rng(0)
        x = rng.random((96, 4, 4), dtype=np.float32)
        y = (x.reshape(96, -1).mean(1) > 0.5).astype(np.int64)
        data = Split(x[:64], y[:64], x[64:80], y[64:80], x[80:], y[80:])
        return fit_classifier(mlp(hidden=(8,), input_shape=(4, 4), classes=2), data, keras.optimizers.SGD(c.lr),
                              c.epochs, 16)


    def analyze(runs, ctx):
        ctx.writeup.finding(f"{len(runs)} runs")
''')


@pytest.fixture
def study(tmp_path):
    path = tmp_path / "parallel_study.py"
    path.write_text(STUDY)
    return registry.entry(str(path)), registry.load(str(path)), tmp_path


def _metrics(store, stage="main"):
    return {(r["arm"], r["seed"]): {k: v for k, v in r["metrics"].items() if "seconds" not in k}
            for r in store.load(stage)}


def test_workers_store_the_same_records_as_one_process_and_survive_faults(study):
    entry, module, tmp = study
    (tmp / "raise").write_text("")
    (tmp / "died").write_text("")  # in-process, a cell that exits would end the test itself
    profile = make_profile("smoke", seeds=2)
    with pytest.raises(RuntimeError, match="this cell is broken"):  # one process: the error propagates
        runner.run_module(entry, module, profile, tmp / "serial")
    (tmp / "raise").unlink()
    serial = runner.run_module(entry, module, profile, tmp / "serial")
    (tmp / "raise").write_text("")
    (tmp / "died").unlink()  # now the worker running b seed 1 dies once
    parallel = runner.run_module(entry, module, profile, tmp / "parallel", workers=2)

    assert (tmp / "died").exists()  # the worker running b seed 1 was killed, and the cell retried
    got, want = _metrics(parallel), _metrics(serial)
    assert set(want) - set(got) == {("bad", 0), ("bad", 1)}
    assert set(got) == {("a", 0), ("a", 1), ("b", 0), ("b", 1)}
    for key in got:
        assert got[key] == pytest.approx(want[key], rel=1e-5), key
    record = parallel.load_one("main", "a", 0)
    assert record["env"]["thread_env"]["SUITE_WORKER_THREADS"] == "1"  # 2 cores / 2 workers

    failures = parallel.failures()
    assert [(f["arm"], f["seed"]) for f in failures] == [("bad", 0), ("bad", 1)]
    assert "RuntimeError: this cell is broken" in failures[0]["error"]

    (tmp / "raise").unlink()
    again = runner.run_module(entry, module, profile, tmp / "parallel", workers=2)
    assert again.failures() == [] and again.has("main", "bad", 1)  # the rerun retried only the failed cells
    assert _metrics(again)[("a", 0)] == got[("a", 0)]
    assert _metrics(again)[("bad", 1)] == pytest.approx(want[("bad", 1)], rel=1e-5)


def test_a_second_run_on_the_same_store_stops_with_an_error(study):
    entry, module, tmp = study
    profile = make_profile("smoke")
    store = runner.ResultStore(tmp / "r", entry.id, "jax", profile.label)
    with store.lock():
        with pytest.raises(SuiteError, match="another run is writing to"):
            runner.run_module(entry, module, profile, tmp / "r")
    assert json.dumps(store.failures()) == "[]"
