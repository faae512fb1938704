"""`--track mlflow|tensorboard` on a tiny synthetic study: what the trackers hold equals the stored
records (read back through MLflow's client, a real `mlflow server`, and TensorBoard's event
reader), cells resumed from the store are logged once, a retrained cell replaces its old run."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import suite_cli
from suite import SuiteError, tracking
from suite.study import registry, runner
from suite.study.profiles import make_profile
from suite.tracking import curves

STUDY = '''
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from suite.data.store import Split
from suite.models.mlp import mlp
from suite.probes.weights import WeightProbe
from suite.study.stages import Stage
from suite.training.fit import fit_classifier

TITLE, REPORT, QUESTION = "tracked", "Tracked.md", "q?"
HERE = Path(__file__).parent


@dataclass(frozen=True)
class Config:
    name: str
    lr: float
    hidden: tuple = (8,)
    epochs: int = 2


def stages(profile, options):
    return [Stage("main", [Config("a", 0.1), Config("b", 0.05), Config("bad", 0.1)])]


def train(c, ctx):
    if c.name == "bad" and (HERE / "raise").exists():
        raise RuntimeError("this cell is broken")
    rng = np.random.default_rng(0)
    x = rng.random((96, 4, 4), dtype=np.float32)
    y = (x.reshape(96, -1).mean(1) > 0.5).astype(np.int64)
    data = Split(x[:64], y[:64], x[64:80], y[64:80], x[80:], y[80:])
    probe = WeightProbe()
    out = fit_classifier(mlp(hidden=c.hidden, input_shape=(4, 4), classes=2), data, keras.optimizers.SGD(c.lr),
                         c.epochs, 16, callbacks=[probe])
    return {**out, "probes": {"weights": probe.history}}


def analyze(runs, ctx):
    ctx.writeup.finding(f"{len(runs)} runs")
'''


@pytest.fixture
def study(tmp_path):
    path = tmp_path / "tracked_study.py"
    path.write_text(STUDY)
    entry, module = registry.entry(str(path)), registry.load(str(path))

    def run(seeds=1, **kwargs):
        return runner.run_module(entry, module, make_profile("smoke", seeds=seeds), tmp_path / "results", **kwargs)

    return run, tmp_path


def _records(store):
    return {curves.cell_key(r): r for r in store.load("main")}


def _check_mlflow(client, store, experiment):
    """Every stored record is one child run of the study's parent, with its params, curves and final metrics."""
    from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

    records = _records(store)
    parents = client.search_runs([experiment], "tags.`suite.role` = 'study'")
    assert len(parents) == 1
    parent = parents[0]
    assert parent.data.params == {"task": "tracked_study", "backend": "jax", "profile": "smoke"}
    children = client.search_runs([experiment], f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent.info.run_id}'")
    by_cell = {c.data.tags["suite.cell"]: c for c in children}
    assert len(children) == len(by_cell)  # nothing logged twice
    assert {k: c.data.tags["suite.status"] for k, c in by_cell.items()} == {k: "ok" for k in records}
    for key, record in records.items():
        child = by_cell[key]
        assert child.data.params["lr"] == str(record["config"]["lr"])
        assert child.data.params["hidden"] == "[8]" and child.data.params["seed"] == str(record["seed"])
        loss = client.get_metric_history(child.info.run_id, "val_loss")
        assert [(m.step, m.value) for m in loss] == list(enumerate(record["history"]["val_loss"], start=1))
        norms = client.get_metric_history(child.info.run_id, "weights/norm/hidden1/kernel")
        assert [(m.step, m.value) for m in norms] == [
            (int(e), n[0]) for e, n in zip(record["probes"]["weights"]["epoch"], record["probes"]["weights"]["norm"])]
        finals = {k[len("final/"):]: v for k, v in child.data.metrics.items() if k.startswith("final/")}
        assert finals == pytest.approx({k: v for k, v in record["metrics"].items()})
        logged = {(name, step) for name, step, _ in curves.points(record)}
        assert {n for n, _ in logged} | {f"final/{k}" for k in record["metrics"]} == set(child.data.metrics)
    return parent, by_cell


def test_mlflow_local_store_logs_each_cell_once_and_a_retrained_cell_replaces_its_run(study, monkeypatch):
    pytest.importorskip("mlflow", reason="--track mlflow needs the tracking extra (pip install -e '.[tracking]')")
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run, tmp = study
    run()  # stored without tracking: the tracked run below resumes these cells
    store = run(seeds=2, track=("mlflow",))  # seed 0 resumed (logged by the sync), seed 1 trained (logged once stored)
    client = MlflowClient(f"sqlite:///{tmp / 'results' / 'mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tracked_study").experiment_id
    parent, first = _check_mlflow(client, store, experiment)
    assert len(first) == 6 and parent.data.tags["mlflow.source.git.commit"]

    run(seeds=2, track=("mlflow",))  # all resumed: nothing new
    _, again = _check_mlflow(client, store, experiment)
    assert {k: c.info.run_id for k, c in again.items()} == {k: c.info.run_id for k, c in first.items()}

    store = run(seeds=2, track=("mlflow",), fresh=True)  # every cell retrained: new children replace the old
    _, fresh = _check_mlflow(client, store, experiment)
    assert not {c.info.run_id for c in fresh.values()} & {c.info.run_id for c in first.values()}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    """A real MLflow tracking server on 127.0.0.1, started for the test."""
    pytest.importorskip("mlflow", reason="--track mlflow needs the tracking extra (pip install -e '.[tracking]')")
    binary = shutil.which("mlflow", path=os.path.dirname(sys.executable)) or shutil.which("mlflow")
    if binary is None:
        pytest.skip("no `mlflow` server command (the full mlflow package, not mlflow-skinny)")
    port = _free_port()
    server = subprocess.Popen([binary, "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                               "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
                               "--artifacts-destination", str(tmp_path / "server-artifacts")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"mlflow server exited: {server.stderr.read()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not answer within 2 minutes")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_mlflow_server_holds_the_stored_records_and_the_writeup(study, mlflow_server, monkeypatch):
    import mlflow
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    run, tmp = study
    store = run(track=("mlflow",))
    client = MlflowClient(mlflow_server)
    experiment = client.get_experiment_by_name("tracked_study").experiment_id
    parent, children = _check_mlflow(client, store, experiment)
    frame = mlflow.search_runs(experiment_names=["tracked_study"], filter_string="tags.`suite.cell` = 'main/a/seed0'")
    record = store.load_one("main", "a", 0)
    assert frame["metrics.final/test_accuracy"].tolist() == [record["metrics"]["test_accuracy"]]
    assert not (tmp / "results" / "mlflow").exists()  # $MLFLOW_TRACKING_URI wins over the local store

    (tmp / "figures").mkdir()
    (tmp / "figures" / "curve.png").write_bytes(b"\x89PNG fake")
    writeup = tmp / "Tracked.md"
    writeup.write_text("# Tracked\n\n![curves](figures/curve.png)\n")
    tracking.log_writeup(("mlflow",), writeup, tmp / "results", "tracked_study", ["jax"], "smoke")
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {"Tracked.md", "figures"}
    assert [a.path for a in client.list_artifacts(parent.info.run_id, "figures")] == ["figures/curve.png"]


def test_workers_log_from_the_driver_and_a_failed_cell_is_tagged_failed(study, monkeypatch):
    pytest.importorskip("mlflow", reason="--track mlflow needs the tracking extra (pip install -e '.[tracking]')")
    from mlflow import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    run, tmp = study
    (tmp / "raise").write_text("")
    run(workers=2, track=("mlflow",))
    client = MlflowClient(f"sqlite:///{tmp / 'results' / 'mlflow' / 'mlflow.db'}")
    children = client.search_runs([client.get_experiment_by_name("tracked_study").experiment_id],
                                  "tags.`suite.cell` LIKE 'main/%'")
    status = {c.data.tags["suite.cell"]: (c.data.tags["suite.status"], c.info.status) for c in children}
    assert status == {"main/a/seed0": ("ok", "FINISHED"), "main/b/seed0": ("ok", "FINISHED"),
                      "main/bad/seed0": ("failed", "FAILED")}
    assert "this cell is broken" in next(c for c in children if c.data.tags["suite.status"] == "failed"
                                         ).data.tags["suite.error"]

    (tmp / "raise").unlink()
    run(track=("mlflow",))  # the rerun trains the failed cell: its ok run replaces the failed one
    children = client.search_runs([client.get_experiment_by_name("tracked_study").experiment_id],
                                  "tags.`suite.cell` = 'main/bad/seed0'")
    assert [c.data.tags["suite.status"] for c in children] == ["ok"]


def test_tensorboard_event_files_hold_each_cells_curves_and_weight_histograms(study):
    pytest.importorskip("tensorboard", reason="--track tensorboard needs the tracking extra")
    pytest.importorskip("tensorflow", reason="--track tensorboard writes with TensorFlow's summary writer")
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    run, tmp = study
    store = run(track=("tensorboard",))
    root = tmp / "results" / "tensorboard" / "tracked_study" / "jax" / "smoke" / "main"
    files = sorted(root.rglob("events.out.tfevents.*"))
    assert [f.parent.relative_to(root).as_posix() for f in files] == ["a/seed0", "b/seed0", "bad/seed0"]
    for record in store.load("main"):
        events = EventAccumulator(str(root / record["arm"] / "seed0"))
        events.Reload()
        got = {(tag, e.step): tensor_util.make_ndarray(e.tensor_proto)
               for tag in events.Tags()["tensors"] for e in events.Tensors(tag)}
        scalars = {key: float(v) for key, v in got.items() if v.ndim == 0}
        assert scalars == pytest.approx({(n, s): v for n, s, v in curves.points(record)}, rel=1e-6)
        assert scalars[("val_loss", 2)] == pytest.approx(record["history"]["val_loss"][1], rel=1e-6)
        weights = record["probes"]["weights"]
        for i, variable in enumerate(weights["variables"]):
            for epoch, counts in zip(weights["epoch"], weights["hist"]):
                buckets = got[(f"weights/hist/{variable}", int(epoch))]
                assert buckets[:, 2].tolist() == counts[i]
                assert buckets[0, 0] == weights["bins"][0] and buckets[-1, 1] == weights["bins"][-1]

    run(track=("tensorboard",))  # resumed: nothing rewritten
    assert sorted(root.rglob("events.out.tfevents.*")) == files


def test_the_command_line_tracks_the_cells_and_attaches_the_writeup(study):
    pytest.importorskip("mlflow", reason="--track mlflow needs the tracking extra (pip install -e '.[tracking]')")
    pytest.importorskip("tensorboard", reason="--track tensorboard needs the tracking extra")
    from mlflow import MlflowClient

    _, tmp = study
    results = tmp / "results"
    proc = suite_cli([str(tmp / "tracked_study.py"), "--profile", "smoke", "--track", "mlflow,tensorboard",
                      "--results-dir", str(results), "--submission-dir", str(tmp / "sub")],
                     env={"MLFLOW_TRACKING_URI": ""})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "View run" not in proc.stdout
    client = MlflowClient(f"sqlite:///{results / 'mlflow' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tracked_study").experiment_id
    (parent,) = client.search_runs([experiment], "tags.`suite.role` = 'study'")
    assert parent.info.status == "FINISHED"
    assert "Tracked.md" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert len(client.search_runs([experiment], "tags.`suite.cell` LIKE 'main/%'")) == 3
    assert len(list((results / "tensorboard").rglob("events.out.tfevents.*"))) == 3


def test_fractional_epochs_are_stepped_in_thousandths_of_an_epoch():
    record = {"task": "t", "backend": "jax", "profile": "smoke", "stage": "main", "arm": "a", "seed": 0,
              "history": {"loss": [0.5, 0.25]},
              "probes": {"grad": {"epoch": [0.0, 0.5, 1.0], "norm": [3.0, 2.0, 1.0]}}}
    assert curves.points(record) == [("loss", 1, 0.5), ("loss", 2, 0.25), ("grad/norm/milliepoch", 0, 3.0),
                                     ("grad/norm/milliepoch", 500, 2.0), ("grad/norm/milliepoch", 1000, 1.0)]


def test_an_unknown_or_missing_tracker_is_one_clear_error(monkeypatch):
    with pytest.raises(SuiteError, match="unknown tracker wandb; choose from mlflow, tensorboard"):
        tracking.names("mlflow,wandb")
    assert tracking.names("mlflow, tensorboard") == ("mlflow", "tensorboard")
    monkeypatch.setattr(tracking.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SuiteError, match=r"--track tensorboard needs tensorflow and tensorboard: pip install"):
        tracking.require(("tensorboard",))
