"""task07 end to end in the smoke profile on real MNIST, on every backend."""

import re

import pytest

from conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_task07_smoke(smoke, backend, mnist_available):
    run = smoke("task07", backend)
    main = run.records("main")
    assert {r["arm"] for r in main} == {"sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"}
    for r in main:
        assert r["status"] == "ok"
        assert r["metrics"]["test_accuracy"] > 0.5, r["arm"]  # chance is 0.1; 512 images, 2 epochs
        assert len(r["history"]["val_loss"]) == r["config"]["epochs"] == 2
        assert r["env"]["backend"] == backend
    # each optimizer's learning rate is the selection run with the lowest validation loss
    selection = run.records("select")
    for r in main:
        candidates = [s for s in selection if s["config"]["optimizer"] == r["arm"]]
        assert len(candidates) == 2
        best = min(candidates, key=lambda s: s["metrics"]["best_val_loss"])
        assert r["config"]["lr"] == best["config"]["lr"]
    # the writeup's numbers are the stored ones
    text = run.writeup()
    results = text[text.index("## Results"):]
    for r in main:  # columns: optimizer | lr | test acc (%) | ...
        row = re.search(rf"^\| {r['arm']} +\|[^|]*\| +([0-9.]+) +\|", results, re.M)
        assert row, r["arm"]
        assert float(row.group(1)) == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006)
    assert f"| profile | smoke |" in text and "## Seed claims" in text
    assert (run.submission / "figures" / "task07_curves.png").stat().st_size > 10_000
