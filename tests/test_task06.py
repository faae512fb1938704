"""task06 (L2) end to end in the smoke profile on real MNIST, on every backend."""

import re

import numpy as np
import pytest

from conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_task06_smoke(smoke, backend, mnist_available):
    run = smoke("task06", backend)
    main = {r["arm"]: r for r in run.records()}
    assert set(main) == {"l2_0", "l2_0.01"}
    for arm, r in main.items():
        m, h = r["metrics"], r["history"]
        assert r["status"] == "ok" and m["test_accuracy"] > 0.5, arm  # chance is 0.1
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
    # the writeup's table shows the stored numbers
    text = run.writeup()
    for arm, r in main.items():
        row = re.search(rf"^\| {re.escape(arm)} +\|[^|]*\| +([0-9.]+) +\|", text, re.M)
        assert row, arm
        assert float(row.group(1)) == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006)
    assert (run.submission / "figures" / "task06_histograms.png").stat().st_size > 10_000
