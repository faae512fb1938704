"""task08 (batch size) end to end in the smoke profile on real MNIST, on every backend."""

import math
import re

import pytest

from conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_task08_smoke(smoke, backend, mnist_available):
    run = smoke("task08", backend)
    main = {r["arm"]: r for r in run.records()}
    assert set(main) == {"batch8", "batch128"}
    for arm, r in main.items():
        m = r["metrics"]
        assert r["status"] == "ok" and m["test_accuracy"] > 0.3, arm  # 512 images; batch 128 takes 8 steps
        own, common = r["probes"]["grad_own"], r["probes"]["grad_common"]
        assert own["batch_size"] == r["config"]["batch_size"] and common["batch_size"] == 32
        assert m["noise_own_final"] > 0 and m["noise_common_final"] > 0
        assert m["steps_per_epoch"] == math.ceil(512 / r["config"]["batch_size"])
        assert math.isfinite(m["hessian_top"]) and m["hessian_top"] > 0  # near a minimum the top curvature is positive
        s = r["sharpness"]["perturbation"]
        assert len(s["rises"]) == s["directions"] and m["sharpness_rise"] == pytest.approx(sum(s["rises"]) / len(s["rises"]))
    # same seed, same initial weights: the common-batch noise before training is the same for every arm
    assert main["batch8"]["metrics"]["noise_common_init"] == pytest.approx(main["batch128"]["metrics"]["noise_common_init"],
                                                                           rel=1e-4)
    # a batch of 8 carries more minibatch-gradient noise than one of 128 at the same weights (init)
    noise0 = {a: sum(main[a]["probes"]["grad_own"]["noise"][0]) for a in main}
    assert noise0["batch8"] > 4 * noise0["batch128"]  # ~16x if minibatches were independent draws
    text = run.writeup()
    for arm, r in main.items():
        row = re.search(rf"^\| {arm} +\|[^|]*\| +([0-9.]+) +\|", text, re.M)
        assert row, arm
        assert float(row.group(1)) == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006)
    assert (run.submission / "figures" / "task08_sharpness.png").stat().st_size > 10_000
