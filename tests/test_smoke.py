"""Every implemented task end to end in the smoke profile, on every backend.

One test, parametrized over `registry.implemented()` x BACKENDS: each (task, backend) runs once per
session in a subprocess (the `smoke` fixture of conftest.py). The generic assertions are written once
(`_check_store`, `_check_writeup`); then the task's own check in `CHECKS` asserts what makes its
results meaningful (accuracy above chance on the real data, a selection that picked the lowest
validation loss, a writeup whose numbers are the stored ones, ...). A task without an entry in
`CHECKS` fails: a new task cannot pass on the generic assertions alone.
"""

import json
import math
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from conftest import BACKENDS, DATA_DIR, suite_cli
from suite.data import digits
from suite.study import options as task_options, registry
from suite.study.profiles import from_label
from suite.study.results import Runs

SMOKE = from_label("smoke")
# CIFAR-10 smoke runs are tested on 500 test images: 3 binomial standard errors above chance (0.1)
# is 0.1 + 3 * sqrt(0.09 / 500) = 0.14.
CIFAR_ABOVE_CHANCE = 0.14


# ---------------------------------------------------------------- helpers

def _by_arm(records):
    return {r["arm"]: r for r in records}


def _table_value(text, pattern, arm):
    """The first group of the writeup line matching `pattern`, as a float (fails naming `arm`)."""
    row = re.search(pattern, text, re.M)
    assert row, f"no writeup row for {arm}: {pattern}"
    return float(row.group(1))


def _figure(run, name, min_bytes=10_000):
    assert (run.submission / "figures" / f"{run.task}_{name}.png").stat().st_size > min_bytes, name


def _stored(results, task, backend, stage="main"):
    folder = results / task / backend / "smoke" / stage
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*/seed*.json"))]


# ---------------------------------------------------------------- task-specific checks

def _task01(run):
    main = _by_arm(run.records())
    assert set(main) == {"1_epochs", "2_epochs"}
    for arm, r in main.items():
        m, s = r["metrics"], r["softmax"]
        assert m["test_accuracy"] > 0.5, arm  # chance is 0.1
        assert m["accuracy"] == pytest.approx(m["test_accuracy"], abs=1e-3)  # our argmax agrees with Keras's metric
        assert 0 <= m["ece"] <= 1 and 0 <= m["hidden_zero_fraction"] <= 1 and 0 <= m["dead_units"] <= 128
        assert m["mean_confidence_right"] > m["mean_confidence_wrong"]
        assert sum(s["confidence_hist_right"]) + sum(s["confidence_hist_wrong"]) == 10000
        assert sum(s["confidence_hist_wrong"]) == m["n_wrong"] == round(10000 * (1 - m["accuracy"]))
        rel = s["reliability"]
        assert sum(rel["count"]) == 10000
        ok = np.array(rel["count"]) > 0  # ECE recomputed from the stored bins
        gap = np.abs(np.array(rel["accuracy"])[ok] - np.array(rel["confidence"])[ok])
        assert (np.array(rel["count"])[ok] * gap).sum() / 10000 == pytest.approx(m["ece"], abs=1e-9)
        assert len(r["history"]["val_ece"]) == r["config"]["epochs"]
        assert len(r["examples"]["least_confident"]) == 8
        assert all(e["label"] != e["prediction"] for e in r["examples"]["most_confident_wrong"])
    text = run.writeup()
    for arm, r in main.items():  # columns: arm | test acc (%) | wrong answers | ECE (%) | ...
        pattern = rf"^\| {arm} +\| +([0-9.]+) +\| +[0-9]+ +\| +([0-9.]+) +\|"
        row = re.search(pattern, text, re.M)
        assert row, arm
        assert float(row.group(1)) == pytest.approx(100 * r["metrics"]["accuracy"], abs=0.006)
        assert float(row.group(2)) == pytest.approx(100 * r["metrics"]["ece"], abs=0.006)
    for fig in ("confidence", "reliability", "examples"):
        _figure(run, fig)


def _task02(run):
    (r,) = run.records()
    m = r["metrics"]
    assert m["test_accuracy"] > 0.5  # chance is 0.1
    accs = {k: v for k, v in m.items() if k.startswith("acc[")}
    assert len(accs) == 3 * 4 + 3 and all(0 <= v <= 1 for v in accs.values())
    assert len(r["per_font"]) == len(digits.font_paths()) and len(r["per_digit"]) == 10
    sw = r["sweeps"]
    assert sw["offset_mnist_test"][0] == pytest.approx(m["test_accuracy"], abs=1e-3)  # shift 0 = the test set
    assert sw["offset_rendered"][0] == pytest.approx(m["acc[MNIST-style | square, 20% margins]"], abs=0.02)
    assert sw["box_rendered"][sw["box_px"].index(20)] == pytest.approx(sw["offset_rendered"][0])
    items = r["gallery"]["items"]
    assert not r["gallery"]["user_images"] and len(items) == 10
    assert all(abs(sum(p) - 1) < 1e-4 for it in items for p in it["probs"].values())
    text = run.writeup()
    row = re.search(r"^\| mean of the four +\| +([0-9.]+) +\| +([0-9.]+) +\| +([0-9.]+) +\|", text, re.M)
    assert row
    assert [float(v) for v in row.groups()] == pytest.approx(
        [100 * m[f"acc[{p}]"] for p in ("seed study (resize only)", "raw (resize + invert)", "MNIST-style")], abs=0.06)
    _figure(run, "gallery")


def _task03(run):
    (r,) = run.records("main")
    m, h = r["metrics"], r["history"]
    assert m["test_accuracy"] > 0.5  # chance is 0.1; 512 images, 2 epochs
    assert len(h["val_loss"]) == len(h["train_eval_loss"]) == r["config"]["epochs"] == 2
    assert 1 <= m["best_epoch"] <= 2 and m["best_val_loss"] == min(h["val_loss"])
    assert m["val_loss_rise_final"] >= 0
    for e in range(2):  # the gap is validation minus inference-mode training loss, epoch by epoch
        assert h["loss_gap"][e] == pytest.approx(h["val_loss"][e] - h["train_eval_loss"][e])
        assert 0 <= h["train_eval_accuracy"][e] <= 1
    text = run.writeup()
    best = _table_value(text, r"^\| minimum validation loss +\| ([0-9.]+) ", "minimum validation loss")
    assert best == pytest.approx(m["best_val_loss"], abs=6e-5)
    assert "| validation loss began diverging after epoch 6 | **" in text
    _figure(run, "curves")


def _task04(run):
    main = _by_arm(run.records("main"))
    assert set(main) == {"to_the_end", "patience1"}
    for arm, r in main.items():
        m = r["metrics"]
        assert m["test_accuracy"] > 0.5, arm  # chance is 0.1; 512 images, 2 epochs
        assert 1 <= m["epochs_run"] <= r["config"]["epochs"]
        assert m["epochs_saved"] == r["config"]["epochs"] - m["epochs_run"]
        assert m["stopped_early"] in (0.0, 1.0)
        expected = m["best_val_loss"] if r["config"]["patience"] else m["final_val_loss"]
        assert m["final_weights_val_loss"] == pytest.approx(expected, rel=1e-4), arm
    assert main["patience1"]["metrics"]["keras_best_epoch"] == main["patience1"]["metrics"]["best_epoch"]
    text = run.writeup()
    for arm, r in main.items():  # columns: arm | patience | stopped early | epochs run | ...
        epochs_run = _table_value(text, rf"^\| {arm} +\|[^|]*\|[^|]*\| +([0-9.]+) +\|", arm)
        assert epochs_run == pytest.approx(r["metrics"]["epochs_run"]), arm
    _figure(run, "stopping")


def _task05(run):
    main = _by_arm(run.records("main"))
    assert set(main) == {"dropout0", "dropout0.5"}
    for arm, r in main.items():
        m, h = r["metrics"], r["history"]
        assert m["test_accuracy"] > 0.5, arm  # chance is 0.1; 512 images, 2 epochs
        assert 0 <= m["train_eval_accuracy"] <= 1 and len(h["train_eval_loss"]) == r["config"]["epochs"]
        assert m["accuracy_gap"] == pytest.approx(m["train_eval_accuracy"] - m["final_val_accuracy"])
        assert m["loss_gap"] == pytest.approx(m["final_val_loss"] - m["train_eval_loss"])
    text = run.writeup()
    for arm, r in main.items():  # columns: dropout | test acc (%) | ...
        acc = _table_value(text, rf"^\| {re.escape(arm)} +\| +([0-9.]+)", arm)
        assert acc == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006), arm
    _figure(run, "curves")


def _task06(run):
    main = _by_arm(run.records())
    assert set(main) == {"l2_0", "l2_0.01"}
    for arm, r in main.items():
        m, h = r["metrics"], r["history"]
        assert m["test_accuracy"] > 0.5, arm  # chance is 0.1
        probe = r["probes"]["weights"]
        assert probe["epoch"] == [0.0, 1.0, 2.0]
        k = probe["variables"].index("hidden1/kernel")
        norm = np.array([p[k] for p in probe["norm"]])
        # the cross-entropy part is Keras's val_loss minus exactly lambda * ||W||^2
        np.testing.assert_allclose(np.array(h["val_loss"]) - np.array(h["val_ce"]), r["config"]["l2"] * norm[1:] ** 2,
                                   rtol=1e-6, atol=1e-9)
        assert m["kernel_norm"] == pytest.approx(norm[-1])
        assert sum(probe["hist"][-1][k]) == 784 * 128  # every weight lands in a bin
    assert main["l2_0"]["metrics"]["final_val_ce"] == pytest.approx(main["l2_0"]["metrics"]["final_val_loss"])
    assert main["l2_0.01"]["metrics"]["final_val_ce"] < main["l2_0.01"]["metrics"]["final_val_loss"]
    text = run.writeup()  # the writeup's table shows the stored numbers
    for arm, r in main.items():
        acc = _table_value(text, rf"^\| {re.escape(arm)} +\|[^|]*\| +([0-9.]+) +\|", arm)
        assert acc == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006), arm
    _figure(run, "histograms")


def _task07(run):
    main = run.records("main")
    assert {r["arm"] for r in main} == {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"}
    for r in main:
        assert r["metrics"]["test_accuracy"] > 0.5, r["arm"]  # chance is 0.1; 512 images, 2 epochs
        assert len(r["history"]["val_loss"]) == r["config"]["epochs"] == 2
    # each optimizer's learning rate is the selection run with the lowest validation loss
    selection = run.records("select")
    for r in main:
        candidates = [s for s in selection if s["config"]["optimizer"] == r["arm"]]
        assert len(candidates) == 2, r["arm"]
        best = min(candidates, key=lambda s: s["metrics"]["best_val_loss"])
        assert r["config"]["lr"] == best["config"]["lr"], r["arm"]
    text = run.writeup()  # the writeup's numbers are the stored ones
    results = text[text.index("## Results"):]
    for r in main:  # columns: optimizer | lr | test acc (%) | ...
        acc = _table_value(results, rf"^\| {r['arm']} +\|[^|]*\| +([0-9.]+) +\|", r["arm"])
        assert acc == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006), r["arm"]
    _figure(run, "curves")


def _task08(run):
    main = _by_arm(run.records())
    assert set(main) == {"batch8", "batch128"}
    for arm, r in main.items():
        m = r["metrics"]
        assert m["test_accuracy"] > 0.3, arm  # chance is 0.1; 512 images, batch 128 takes 8 steps
        own, common = r["probes"]["grad_own"], r["probes"]["grad_common"]
        assert own["batch_size"] == r["config"]["batch_size"] and common["batch_size"] == 32
        assert m["noise_own_final"] > 0 and m["noise_common_final"] > 0
        assert m["steps_per_epoch"] == math.ceil(512 / r["config"]["batch_size"])
        assert math.isfinite(m["hessian_top"]) and m["hessian_top"] > 0  # near a minimum the top curvature is positive
        s = r["sharpness"]["perturbation"]
        assert len(s["rises"]) == s["directions"]
        assert m["sharpness_rise"] == pytest.approx(sum(s["rises"]) / len(s["rises"]))
    # same seed, same initial weights: the common-batch noise before training is the same for every arm
    assert main["batch8"]["metrics"]["noise_common_init"] == pytest.approx(
        main["batch128"]["metrics"]["noise_common_init"], rel=1e-4)
    # a batch of 8 carries more minibatch-gradient noise than one of 128 at the same weights (init)
    noise0 = {a: sum(main[a]["probes"]["grad_own"]["noise"][0]) for a in main}
    assert noise0["batch8"] > 4 * noise0["batch128"]  # ~16x if minibatches were independent draws
    text = run.writeup()
    for arm, r in main.items():
        acc = _table_value(text, rf"^\| {arm} +\|[^|]*\| +([0-9.]+) +\|", arm)
        assert acc == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006), arm
    _figure(run, "sharpness")


def _task09(run):
    main = _by_arm(run.records())
    assert set(main) == {"relu", "gelu"}
    for arm, r in main.items():
        m = r["metrics"]
        assert m["test_accuracy"] > 0.5, arm  # chance is 0.1
        probe = r["probes"]["activations"]
        assert probe["layers"] == ["hidden1"] and probe["epoch"] == [0.0, 1.0, 2.0]
        for point in probe["dead_fraction"]:
            assert 0.0 <= point[0] <= 1.0
            assert (point[0] * 128) == pytest.approx(round(point[0] * 128))  # a whole number of the 128 units
        assert m["inactive_max"] == max(p[0] for p in probe["dead_fraction"])
        assert m["saturated_final"] == 0.0  # ReLU and GELU are unbounded
    text = run.writeup()
    for arm, r in main.items():
        acc = _table_value(text, rf"^\| {arm} +\| +([0-9.]+) +\|", arm)
        assert acc == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006), arm
    _figure(run, "curves")


def _task10(run):
    main = _by_arm(run.records())
    assert set(main) == {"plain", "l2_0.01"}
    for arm, r in main.items():
        m, units = r["metrics"], r["kernel_units"]
        assert m["test_accuracy"] > 0.5, arm  # chance is 0.1
        init, trained = np.array(units["initial"]), np.array(units["trained"])
        assert init.shape == trained.shape == (16, 784)
        limit = np.sqrt(6 / (784 + 128))  # Glorot uniform
        assert np.abs(init).max() <= limit + 1e-4 and not np.array_equal(init, trained)
        probe = r["probes"]["weights"]
        k = probe["kernels"].index("hidden1/kernel")
        assert m["std_init"] == pytest.approx(probe["std"][0][probe["variables"].index("hidden1/kernel")], rel=1e-5)
        assert 1.0 <= m["eff_rank_final"] <= 128.0
        sv = probe["singular_values"][-1][k]
        assert len(sv) == 128 and sv == sorted(sv, reverse=True)
    # same seed, same initialization in both arms
    np.testing.assert_array_equal(main["plain"]["kernel_units"]["initial"], main["l2_0.01"]["kernel_units"]["initial"])
    assert "L2 forces weights closer to zero" in run.writeup()
    _figure(run, "images")


def _cifar_weights(results, backend, r):
    """task11's stored weights of run `r` (an artifact beside its record, for task12 to reload)."""
    return results / "task11" / backend / "smoke" / "main" / r["arm"] / f"seed{r['seed']}.artifacts" / "model.weights.h5"


def _task11(run):
    main = run.records("main")
    assert {r["arm"] for r in main} == {"plain", "crop_flip"}
    for r in main:
        m = r["metrics"]
        assert m["test_accuracy"] > CIFAR_ABOVE_CHANCE, (r["arm"], m["test_accuracy"])
        for k in ("train_accuracy_clean", "test_accuracy_exact", "final_train_accuracy"):
            assert 0 <= m[k] <= 1, k
        assert len(r["history"]["clean_train_accuracy"]) == len(r["history"]["val_accuracy"]) == r["config"]["epochs"]
        confusion = r["confusion"]
        assert sum(map(sum, confusion)) == 500  # the smoke test slice
        assert sum(confusion[k][k] for k in range(10)) / 500 == pytest.approx(m["test_accuracy"])
        # the weights are stored as the run's artifact, for task12 to reload
        assert r["artifacts"] == ["model.weights.h5"], r["arm"]
        assert _cifar_weights(run.results, run.backend, r).stat().st_size > 100_000, r["arm"]  # 545k parameters
    assert {r["config"]["augment"] for r in main} == {False, True}
    text = run.writeup()
    for r in main:  # the writeup's test accuracy column is the stored one
        acc = _table_value(text, rf"^\| {r['arm']} +\|[^|]*\|[^|]*\|[^|]*\| +([0-9.]+) +\|", r["arm"])
        assert acc == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006), r["arm"]
    _figure(run, "confusion")


TASK12_PROBES = ("shift_0", "shift_4", "shift_8", "mask_centre_0.25", "mask_border_0.25", "mask_centre_0.5",
                 "mask_border_0.5", "top_share", "null_top_share_q99")


def _task12_records(records, upstream, results, backend):
    """task12's records evaluate task11's stored models: `upstream` = task11's records in `results`."""
    assert {r["arm"] for r in records} == {"plain", "crop_flip"}
    up = {(r["arm"], r["seed"]): r for r in upstream}
    assert set(up) == {(r["arm"], r["seed"]) for r in records}  # one task11 run per task12 run
    for r in records:
        m, source = r["metrics"], up[r["arm"], r["seed"]]
        assert r["weights_source"] == "task11"
        assert r["upstream"] == {"task": "task11", "finished": source["finished"]}, r["arm"]
        assert r["config"] == source["config"]  # task11's arm, field for field
        assert source["artifacts"] == ["model.weights.h5"] and _cifar_weights(results, backend, source).is_file()
        assert "artifacts" not in r  # task12 stores no weights of its own
        # same weights, same test images: the same accuracy as task11 measured
        assert m["test_accuracy"] == pytest.approx(source["metrics"]["test_accuracy"], abs=1e-6), r["arm"]
        assert m["test_accuracy"] > CIFAR_ABOVE_CHANCE, (r["arm"], m["test_accuracy"])
        for k in TASK12_PROBES:
            assert 0 <= m[k] <= 1, k
        assert m["shift_drop_0"] == 0 and m["shift_drop_4"] == pytest.approx(m["shift_0"] - m["shift_4"])
        assert r["gallery"] and all(g["pred"] != g["true"] for g in r["gallery"])
    assert not list((results / "task12").rglob("*.weights.h5"))


def _task12(run):
    # No task11 runs in task12's own results folder: it trains task11's smoke cells first, under task11.
    upstream = _stored(run.results, "task11", run.backend)
    assert "training it first (stored under task11)" in run.proc.stderr
    _task12_records(run.records("main"), upstream, run.results, run.backend)
    text = run.writeup()
    assert "errors are structured" in text and "reloaded from task11" in text
    _figure(run, "probes")
    if run.backend != "jax":
        return
    # Regression guard (one backend): with task11's weights stored, task12 must reuse them, not retrain.
    results = Path(tempfile.mkdtemp(prefix="reuse_", dir=run.results.parent)) / "results"
    shutil.copytree(run.results / "task11", results / "task11")
    proc = suite_cli(["task12", "--backend", "jax", "--profile", "smoke", "--results-dir", str(results),
                      "--submission-dir", str(results.parent / "submission")], "jax")
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "training it first" not in proc.stderr
    assert _stored(results, "task11", "jax") == upstream  # task11's records untouched
    _task12_records(_stored(results, "task12", "jax"), upstream, results, "jax")


def _task13(run):
    main = run.records("main")
    assert {r["arm"] for r in main} == {"w16_float32", "w16_float64"}
    for r in main:
        m = r["metrics"]
        assert m["rel_err_fd_analytic"] < 1e-6  # the hand derivation is right
        assert m["rel_err_autodiff_analytic"] < 1e-4  # autodiff matches it to float32 rounding or better
        assert m["forward_rel_err"] < 1e-5
        assert m["twice_over_once"] == pytest.approx(2.0, rel=1e-6)  # accumulation, implicit or explicit
        assert m["accumulates"] == (1.0 if run.backend == "torch" else 0.0)
        assert m["stop_first_layer_max_abs"] == 0.0 and m["stop_second_layer_rel_diff"] < 1e-6
        assert r["computed_dtype"] == r["config"]["dtype"]
    f64 = next(r for r in main if r["arm"] == "w16_float64")["metrics"]["rel_err_autodiff_analytic"]
    if run.backend != "torch":  # Keras computes torch float64 matmuls in float32 (see tests/test_backend_grads.py)
        assert f64 < 1e-12
    text = run.writeup()
    for r in main:  # the table's autodiff-vs-analytic column is the stored error
        row = re.search(rf"^\| {run.backend} +\| +16 \| {r['config']['dtype']} .*$", text, re.M)
        assert row, r["arm"]
        cell = row.group(0).split("|")[6]  # | backend | width | dtype | seeds | forward | autodiff vs analytic |
        assert float(cell) == pytest.approx(r["metrics"]["rel_err_autodiff_analytic"], rel=0.06)  # 2 significant digits
    _figure(run, "errors", min_bytes=5_000)


def _task21(run):
    main = _by_arm(run.records("main"))
    assert set(main) == {f"d{d}_{i}_{a}" for d in (2, 8, 16) for i in ("glorot", "he") for a in ("relu", "tanh")}
    for arm, r in main.items():
        m, h = r["metrics"], r["probes"]["step_gradients"]
        steps = math.ceil(r["config"]["train_size"] / r["config"]["batch_size"])
        assert len(h["variables"]) == 2 * (r["config"]["depth"] + 1)  # a kernel and a bias per Dense layer
        assert h["epoch"] == [1, 2] and h["step"] == list(range(1, 2 * steps + 1))  # every step kept (thin 1)
        first = np.array(h["steps"]["hidden1/kernel"])
        assert np.isfinite(first).all() and (first > 0).all()
        i = h["variables"].index("hidden1/kernel")  # the epoch statistics are those of the kept steps
        for e in range(2):
            assert h["mean"][e][i] == pytest.approx(first[e * steps:(e + 1) * steps].mean(), rel=1e-5)
            assert h["var"][e][i] == pytest.approx(first[e * steps:(e + 1) * steps].var(), rel=1e-3, abs=1e-9)
        assert m["grad_ratio_epoch1"] == pytest.approx(h["mean"][0][i] / h["mean"][0][h["variables"].index(
            "logits/kernel")], rel=1e-9)
    assert main["d2_he_relu"]["metrics"]["test_accuracy"] > 0.5  # chance is 0.1
    probe = {arm: r["metrics"]["probe_first_init"] for arm, r in main.items()}
    assert probe["d16_glorot_tanh"] < probe["d2_glorot_tanh"]  # tanh + Glorot: the first layer's gradient shrinks
    assert probe["d16_glorot_relu"] < 0.1 * probe["d2_glorot_relu"]  # Glorot halves ReLU signals layer by layer
    tuned = _by_arm(run.records("optimizers"))
    assert set(tuned) == {"sgd_lr0.001", "momentum_lr0.001", "sgd_tuned", "momentum_tuned", "adam_tuned"}
    assert tuned["adam_tuned"]["config"] == main["d8_he_relu"]["config"] | {"name": "adam_tuned"}
    text = run.writeup()
    acc = _table_value(text, r"^\| d8_he_relu +\| +8 \| he +\| relu +\| +([0-9.]+) +\|", "d8_he_relu")
    assert acc == pytest.approx(100 * main["d8_he_relu"]["metrics"]["test_accuracy"], abs=0.006)
    for name in ("step_norms", "attenuation", "init_depth", "layers", "optimizers"):
        _figure(run, name)


CHECKS = {"task01": _task01, "task02": _task02, "task03": _task03, "task04": _task04, "task05": _task05,
          "task06": _task06, "task07": _task07, "task08": _task08, "task09": _task09, "task10": _task10,
          "task11": _task11, "task12": _task12, "task13": _task13, "task21": _task21}


# ---------------------------------------------------------------- generic checks

def _check_store(run, module):
    """Exactly the (stage, arm, seed) cells the task declares are stored, each ok and on this backend."""
    base = run.results / run.task / run.backend / "smoke"
    stages = module.stages(SMOKE, task_options.declared(module)())
    assert sorted(p.name for p in base.iterdir() if p.is_dir()) == sorted(s.name for s in stages)
    done = {}
    for stage in stages:
        records = run.records(stage.name)
        expected = {(c.name, seed) for c in stage.resolve(done) for seed in stage.seed_list(SMOKE)}
        assert {(r["arm"], r["seed"]) for r in records} == expected, stage.name
        assert len(records) == len(expected), stage.name
        for r in records:
            where = (stage.name, r["arm"], r["seed"])
            assert r["status"] == "ok", (*where, r["status"])
            assert r["task"] == run.task and r["stage"] == stage.name and r["profile"] == "smoke", where
            assert r["backend"] == r["env"]["backend"] == run.backend, where
        done[stage.name] = Runs(records, stage.name)


def _check_writeup(run):
    text = run.writeup()
    assert text.startswith(f"# {run.task.capitalize()}: ")
    assert "| profile | smoke |" in text and "## Seed claims" in text
    assert re.search(rf"^\| backend \| {run.backend} ", text, re.M)
    figures = re.findall(r"\]\((figures/[^)]+\.png)\)", text)
    assert figures, "the writeup shows no figure"
    for name in figures:
        assert (run.submission / name).stat().st_size > 0, name


@pytest.mark.parametrize("task, backend", [pytest.param(t, b, id=f"{t}-{b}")
                                           for t in registry.implemented() for b in BACKENDS])
def test_smoke(smoke, task, backend):
    assert task in CHECKS, (f"{task} has no task-specific smoke check: add one to CHECKS in tests/test_smoke.py "
                            "asserting what makes its results meaningful (e.g. accuracy well above chance, the "
                            "writeup's numbers equal the stored ones)")
    module = registry.load(task)
    missing = [name for name in getattr(module, "DATA", ()) if not (DATA_DIR / f"{name}.npz").is_file()]
    if missing:
        pytest.skip(f"no {', '.join(missing)} copy in {DATA_DIR}")
    run = smoke(task, backend)
    assert run.proc.returncode == 0, run.proc.stderr[-4000:]
    _check_store(run, module)
    _check_writeup(run)
    CHECKS[task](run)
