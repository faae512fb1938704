"""task09 (activations) end to end in the smoke profile on real MNIST, on every backend."""

import re

import pytest

from conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_task09_smoke(smoke, backend, mnist_available):
    run = smoke("task09", backend)
    main = {r["arm"]: r for r in run.records()}
    assert set(main) == {"relu", "gelu"}
    for arm, r in main.items():
        m = r["metrics"]
        assert r["status"] == "ok" and m["test_accuracy"] > 0.5, arm
        probe = r["probes"]["activations"]
        assert probe["layers"] == ["hidden1"] and probe["epoch"] == [0.0, 1.0, 2.0]
        for point in probe["dead_fraction"]:
            assert 0.0 <= point[0] <= 1.0
            assert (point[0] * 128) == pytest.approx(round(point[0] * 128))  # a whole number of the 128 units
        assert m["inactive_max"] == max(p[0] for p in probe["dead_fraction"])
        assert m["saturated_final"] == 0.0  # ReLU and GELU are unbounded
    text = run.writeup()
    for arm, r in main.items():
        row = re.search(rf"^\| {arm} +\| +([0-9.]+) +\|", text, re.M)
        assert row, arm
        assert float(row.group(1)) == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006)
    assert (run.submission / "figures" / "task09_curves.png").stat().st_size > 10_000
