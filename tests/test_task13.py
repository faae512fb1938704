"""task13: its NumPy references (the smoke run on every backend is in tests/test_smoke.py)."""

import numpy as np

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
