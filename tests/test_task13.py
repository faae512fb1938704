"""task13 end to end in the smoke profile on real MNIST, on every backend, plus its NumPy references."""

import re

import numpy as np
import pytest

from conftest import BACKENDS
from tasks.task13_autograd import finite_differences, numpy_backprop, numpy_loss


def test_hand_derived_backprop_matches_finite_differences():
    rng = np.random.default_rng(0)
    params = [rng.normal(0, 0.5, (5, 4)), rng.normal(0, 0.1, 4), rng.normal(0, 0.5, (4, 3)), rng.normal(0, 0.1, 3)]
    x, y = rng.normal(size=(7, 5)), rng.integers(0, 3, 7)
    grads = numpy_backprop(params, x, y)
    coords = [(k, i) for k, p in enumerate(params) for i in range(p.size)]
    fd = finite_differences(params, x, y, coords)
    np.testing.assert_allclose(np.concatenate([g.ravel() for g in grads]), fd, rtol=1e-6, atol=1e-9)
    assert numpy_loss(params, x, y)[0] > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_task13_smoke(smoke, backend, mnist_available):
    run = smoke("task13", backend)
    main = run.records("main")
    assert {r["arm"] for r in main} == {"w16_float32", "w16_float64"}
    for r in main:
        m = r["metrics"]
        assert r["status"] == "ok" and r["env"]["backend"] == backend
        assert m["rel_err_fd_analytic"] < 1e-6  # the hand derivation is right
        assert m["rel_err_autodiff_analytic"] < 1e-4  # autodiff matches it to float32 rounding or better
        assert m["forward_rel_err"] < 1e-5
        assert m["twice_over_once"] == pytest.approx(2.0, rel=1e-6)  # accumulation, implicit or explicit
        assert m["accumulates"] == (1.0 if backend == "torch" else 0.0)
        assert m["stop_first_layer_max_abs"] == 0.0 and m["stop_second_layer_rel_diff"] < 1e-6
        assert r["computed_dtype"] == r["config"]["dtype"]
    f64 = next(r for r in main if r["arm"] == "w16_float64")["metrics"]["rel_err_autodiff_analytic"]
    if backend != "torch":  # Keras computes torch float64 matmuls in float32 (see tests/test_backend_grads.py)
        assert f64 < 1e-12
    text = run.writeup()
    for r in main:  # the table's autodiff-vs-analytic column is the stored error
        row = re.search(rf"^\| {backend} +\| +16 \| {r['config']['dtype']} .*$", text, re.M)
        assert row, r["arm"]
        cell = row.group(0).split("|")[6]  # | backend | width | dtype | seeds | forward | autodiff vs analytic |
        assert float(cell) == pytest.approx(r["metrics"]["rel_err_autodiff_analytic"], rel=0.06)  # 2 significant digits
    assert "## Seed claims" in text and (run.submission / "figures" / "task13_errors.png").stat().st_size > 5_000
