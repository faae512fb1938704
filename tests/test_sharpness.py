"""suite.measures.sharpness on a linear model with mean squared error, whose Hessian is known in closed form.

For y_hat = x W + b with MSE over n samples and k outputs, the Hessian with respect to each output's
(W column, b) block is (2 / (n k)) [x, 1]^T [x, 1], identical for every output, so the top eigenvalue
is (2 / (n k)) * lambda_max([x, 1]^T [x, 1]). At the least-squares solution the gradient vanishes
and the loss rise along a kernel perturbation dW (biases unperturbed) is exactly mean((x dW)^2).
"""

import keras
import numpy as np
import pytest

from suite.measures.sharpness import mean_loss, perturbation_sharpness, random_direction, top_hessian_eigenvalue

N, D, K = 256, 6, 3


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((N, D)) * np.array([3.0, 1.5, 1.0, 1.0, 0.7, 0.5])).astype("float32")
    y = (x @ rng.standard_normal((D, K)) + 0.3 * rng.standard_normal((N, K))).astype("float32")
    model = keras.Sequential([keras.Input((D,)), keras.layers.Dense(K)])
    return model, x, y


def _least_squares(model, x, y):
    xa = np.hstack([x, np.ones((N, 1))]).astype(np.float64)
    sol = np.linalg.lstsq(xa, y.astype(np.float64), rcond=None)[0]
    model.set_weights([sol[:D].astype("float32"), sol[D].astype("float32")])


def test_power_iteration_finds_the_closed_form_top_eigenvalue():
    model, x, y = _problem()
    xa = np.hstack([x, np.ones((N, 1))]).astype(np.float64)
    expected = 2.0 / (N * K) * np.linalg.eigvalsh(xa.T @ xa).max()
    before = [w.copy() for w in model.get_weights()]
    out = top_hessian_eigenvalue(model, x, y, keras.losses.MeanSquaredError(), iters=200, tol=1e-6)
    assert out["eigenvalue"] == pytest.approx(expected, rel=1e-2)
    assert out["converged"] and out["iterations"] == len(out["trace"])
    for w, b in zip(model.get_weights(), before):  # weights restored exactly
        np.testing.assert_array_equal(w, b)


def test_power_iteration_is_not_fooled_by_the_second_eigenvalue():
    """Regression guard: a Rayleigh quotient of the start vector alone lies well below the top value."""
    model, x, y = _problem(1)
    xa = np.hstack([x, np.ones((N, 1))]).astype(np.float64)
    eig = np.sort(np.linalg.eigvalsh(xa.T @ xa))[::-1] * 2.0 / (N * K)
    out = top_hessian_eigenvalue(model, x, y, keras.losses.MeanSquaredError(), iters=1)
    assert out["eigenvalue"] < 0.9 * eig[0]  # one step is not enough: the test above is not trivial
    assert eig[1] < 0.5 * eig[0]


def test_perturbation_rise_matches_closed_form_at_the_minimum():
    model, x, y = _problem()
    _least_squares(model, x, y)
    mse = keras.losses.MeanSquaredError()
    weights = [w.copy() for w in model.get_weights()]
    out = perturbation_sharpness(model, x, y, mse, radius=0.1, directions=3, seed=7)
    rng = np.random.default_rng(7)
    expected = []
    for _ in range(3):
        d = random_direction(weights, 0.1, rng)
        assert not d[1].any()  # biases are not perturbed
        expected.append(np.mean((x.astype(np.float64) @ d[0]) ** 2))
    np.testing.assert_allclose(out["rises"], expected, rtol=2e-3, atol=1e-6)
    assert out["rise"] == pytest.approx(np.mean(expected), rel=2e-3)
    assert out["base_loss"] == pytest.approx(mean_loss(model, x, y, mse), rel=1e-6)
    for w, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(w, b)


def test_filter_and_layer_normalization_set_the_relative_size():
    rng = np.random.default_rng(0)
    w = rng.standard_normal((20, 5)) * np.arange(1, 6)
    d = random_direction([w], 0.05, rng, "filter")[0]
    np.testing.assert_allclose(np.linalg.norm(d, axis=0), 0.05 * np.linalg.norm(w, axis=0))
    d = random_direction([w], 0.05, rng, "layer")[0]
    assert np.linalg.norm(d) == pytest.approx(0.05 * np.linalg.norm(w))
    with pytest.raises(ValueError, match="normalize"):
        random_direction([w], 0.05, rng, "unit")


def test_symmetric_rise_cancels_the_gradient_term_away_from_the_minimum():
    """Regression guard: a one-sided rise at a non-minimum mixes in g.d and can even be negative."""
    model, x, y = _problem(2)  # random initial weights: far from the least-squares minimum
    mse = keras.losses.MeanSquaredError()
    weights = [w.copy() for w in model.get_weights()]
    sym = perturbation_sharpness(model, x, y, mse, radius=0.1, directions=4, seed=3)
    one = perturbation_sharpness(model, x, y, mse, radius=0.1, directions=4, seed=3, symmetric=False)
    rng = np.random.default_rng(3)
    quad = [np.mean((x.astype(np.float64) @ random_direction(weights, 0.1, rng)[0]) ** 2) for _ in range(4)]
    np.testing.assert_allclose(sym["rises"], quad, rtol=1e-2)
    assert np.max(np.abs(np.array(one["rises"]) - quad)) > 10 * np.max(np.abs(np.array(sym["rises"]) - quad))
