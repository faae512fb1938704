"""Tidy tables of stored runs (`suite.study.tidy`) and `python -m suite.export`."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from suite.study import tidy
from suite.study.results import ResultStore

ROOT = Path(__file__).resolve().parent.parent


def _record(arm, seed, lr, finished):
    return {"task": "task07", "backend": "jax", "profile": "smoke", "stage": "main", "arm": arm, "seed": seed,
            "status": "ok", "wall_s": 1.5, "finished": finished,
            "config": {"name": arm, "lr": lr, "hidden": [8, 4]},
            "metrics": {"test_accuracy": 0.9 + seed / 100, "best_epoch": 2},
            "history": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7 + seed], "lr": "not a curve"},
            "probes": {"grads": {"epoch": [0.0, 0.5, 1.0], "step": [0, 5, 10], "variables": ["d/kernel", "d/bias"],
                                 "norm": [[3.0, 1.0], [2.0, 0.5], [1.0, 0.25]], "total": [4.0, 2.5, 1.25],
                                 "batch_size": 32}}}


@pytest.fixture
def results(tmp_path):
    store = ResultStore(tmp_path, "task07", "jax", "smoke")
    for i, (arm, seed, lr) in enumerate([("sgd", 0, 0.1), ("sgd", 1, 0.1), ("adam", 0, 0.001)]):
        store.save(_record(arm, seed, lr, f"2026-01-01T00:0{i}:00"))
    return tmp_path, store


def test_curves_frame_holds_every_stored_point_once(results):
    _, store = results
    curves = store.load("main").curves_frame()
    assert list(curves.columns) == list(tidy.CURVE_COLUMNS)
    sgd1 = curves[(curves.arm == "sgd") & (curves.seed == 1)]
    assert sgd1[sgd1.metric == "val_loss"].set_index("epoch").value.to_dict() == {1: 1.1, 2: 1.7}
    kernel = sgd1[sgd1.metric == "grads/norm/d/kernel"]
    assert kernel.epoch.tolist() == [0.0, 0.5, 1.0] and kernel.value.tolist() == [3.0, 2.0, 1.0]
    assert sgd1[sgd1.metric == "grads/total"].value.tolist() == [4.0, 2.5, 1.25]
    assert "lr" not in set(curves.metric) and "grads/batch_size" not in set(curves.metric)
    per_run = 2 * 2 + 3 * 2 + 3  # two history curves, two variables' norms, one total
    assert len(curves) == 3 * per_run and not curves.duplicated(["arm", "seed", "epoch", "metric"]).any()


def test_runs_frame_has_config_and_final_metrics(results):
    _, store = results
    runs = store.load("main").to_frame()
    assert len(runs) == 3
    row = runs[(runs.arm == "sgd") & (runs.seed == 1)].iloc[0]
    assert row["config.lr"] == 0.1 and row["config.hidden"] == "8,4"
    assert row["metrics.test_accuracy"] == pytest.approx(0.91) and row["status"] == "ok"


def test_export_command_writes_tables_pandas_reads_back(results, tmp_path):
    root, _ = results
    out = tmp_path / "out" / "t7_curves.csv"
    proc = subprocess.run([sys.executable, "-m", "suite.export", "task07", "--results-dir", str(root),
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    curves, runs = pd.read_csv(out), pd.read_csv(tmp_path / "out" / "t7_runs.csv")
    assert set(curves.arm) == {"sgd", "adam"} and len(runs) == 3
    assert curves[(curves.arm == "adam") & (curves.metric == "loss")].value.tolist() == [1.0, 0.5]


def test_export_of_nothing_stored_is_one_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "suite.export", "task07", "--results-dir", str(tmp_path),
                           "--backend", "torch"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: no stored results for task07 (torch) in {tmp_path}"


def test_shipped_results_export_matches_their_records():
    from suite.export import stored_records

    records = stored_records(ROOT / "results", "task08")
    curves = tidy.curves_frame(records)
    r = records[0]
    mine = curves[(curves.backend == r["backend"]) & (curves.profile == r["profile"]) & (curves.arm == r["arm"])
                  & (curves.seed == r["seed"]) & (curves.metric == "val_loss")]
    assert mine.value.tolist() == r["history"]["val_loss"]
