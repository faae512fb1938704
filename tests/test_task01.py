"""task01 end to end in the smoke profile on real MNIST, on every backend."""

import re

import numpy as np
import pytest

from conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_task01_smoke(smoke, backend, mnist_available):
    run = smoke("task01", backend)
    main = {r["arm"]: r for r in run.records()}
    assert set(main) == {"1_epochs", "2_epochs"}
    for arm, r in main.items():
        m, s = r["metrics"], r["softmax"]
        assert r["status"] == "ok" and r["env"]["backend"] == backend
        assert m["test_accuracy"] > 0.5  # chance is 0.1
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
        row = re.search(rf"^\| {arm} +\| +([0-9.]+) +\| +[0-9]+ +\| +([0-9.]+) +\|", text, re.M)
        assert row, arm
        assert float(row.group(1)) == pytest.approx(100 * r["metrics"]["accuracy"], abs=0.006)
        assert float(row.group(2)) == pytest.approx(100 * r["metrics"]["ece"], abs=0.006)
    assert "| profile | smoke |" in text and "## Seed claims" in text
    for fig in ("confidence", "reliability", "examples"):
        assert (run.submission / "figures" / f"task01_{fig}.png").stat().st_size > 10_000
