"""Sharpness of a trained solution: loss rise under random weight perturbations, top Hessian eigenvalue.

Two measures of how sharply the loss rises around the weights a model ended at, both on a fixed
evaluation set and with the model in inference mode (no dropout):

- `perturbation_sharpness`: the mean rise of the loss when every kernel is moved along a random
  Gaussian direction scaled to a fixed fraction of its own size, per output unit ("filter
  normalization", Li et al. 2018, so the measure does not change when a ReLU unit's weights are
  rescaled) or per layer. Averaged over several directions, each taken both ways (+d and -d) so
  that the first-order term cancels and a solution that is not exactly at a minimum is not
  credited with a negative "sharpness".
- `top_hessian_eigenvalue`: the largest-magnitude eigenvalue of the Hessian of the loss with respect
  to all trainable weights, by power iteration; each Hessian-vector product is a central finite
  difference of two gradients from `suite.backend.value_and_grads`, so it is the same computation
  on every backend.

Both functions restore the model's weights before returning, and draw their random directions from
their own NumPy generator (they never touch Keras's seed state).
"""

import math

import keras
import numpy as np

from suite import backend


def _loss_fn(loss_fn):
    return loss_fn if loss_fn is not None else keras.losses.SparseCategoricalCrossentropy()


def mean_loss(model, x, y, loss_fn=None, batch_size=1024):
    """Mean of `loss_fn` over `(x, y)` in inference mode (penalty terms such as L2 are not included).

    Args:
        model: a `keras.Model`.
        x, y: NumPy inputs and targets.
        loss_fn: a Keras loss that averages over the batch. Defaults to sparse categorical
            cross-entropy on probabilities.
        batch_size: examples per forward pass. Defaults to `1024`.
    """
    loss_fn = _loss_fn(loss_fn)
    total = 0.0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], y[i:i + batch_size]
        out = model(keras.ops.convert_to_tensor(xb), training=False)
        total += float(keras.ops.convert_to_numpy(loss_fn(keras.ops.convert_to_tensor(yb), out))) * len(xb)
    return total / len(x)


def random_direction(weights, radius, rng, normalize="filter"):
    """A random perturbation of `weights` whose size is `radius` times the weights' own size.

    Args:
        weights: list of NumPy arrays (the model's trainable weights).
        radius: relative size of the perturbation (e.g. `0.05` for 5%).
        rng: a `numpy.random.Generator`.
        normalize: `"filter"`: each output unit's column of a kernel (last axis) gets a Gaussian
            direction of norm `radius * ||column||`; `"layer"`: each kernel as a whole gets norm
            `radius * ||kernel||`. One-dimensional weights (biases) are not perturbed, as in
            Li et al. (2018). Defaults to `"filter"`.

    Returns:
        A list of arrays shaped like `weights`.
    """
    if normalize not in ("filter", "layer"):
        raise ValueError(f"normalize must be 'filter' or 'layer', got {normalize!r}")
    out = []
    for w in weights:
        w = np.asarray(w, dtype=np.float64)
        if w.ndim < 2:
            out.append(np.zeros_like(w))
            continue
        d = rng.standard_normal(w.shape)
        axes = tuple(range(w.ndim - 1)) if normalize == "filter" else None
        w_norm = np.sqrt((w**2).sum(axis=axes, keepdims=axes is not None))
        d_norm = np.sqrt((d**2).sum(axis=axes, keepdims=axes is not None))
        out.append(radius * d * w_norm / np.maximum(d_norm, 1e-12))
    return out


def _assign(variables, values):
    for v, value in zip(variables, values):
        v.assign(np.asarray(value, dtype=v.dtype))


def perturbation_sharpness(model, x, y, loss_fn=None, radius=0.05, directions=5, normalize="filter", seed=0,
                           symmetric=True):
    """Mean loss rise when the weights move a fixed relative distance in random directions.

    Args:
        model: a trained `keras.Model`.
        x, y: a fixed evaluation set (NumPy).
        loss_fn: a Keras loss. Defaults to sparse categorical cross-entropy.
        radius: relative perturbation size (see `random_direction`). Defaults to `0.05`.
        directions: random directions to average over. Defaults to `5`.
        normalize: `"filter"` or `"layer"`. Defaults to `"filter"`.
        seed: seed of the directions' own generator. Defaults to `0`.
        symmetric: measure each direction's rise as `(loss(w + d) + loss(w - d)) / 2 - loss(w)`,
            which removes the gradient term (for a quadratic loss it is exactly `d.H.d / 2`);
            `False` uses `loss(w + d) - loss(w)`. Defaults to `True`.

    Returns:
        `dict(base_loss, rise, rise_std, rises, radius, directions, normalize, symmetric)`: the
        loss at the weights, the mean (and sample std) of the rise over the directions, and each
        direction's rise.

    Example:
        >>> s = perturbation_sharpness(model, x_val[:2000], y_val[:2000])  # doctest: +SKIP
        >>> s["rise"]  # doctest: +SKIP
        0.012
    """
    variables = list(model.trainable_variables)
    weights = [keras.ops.convert_to_numpy(v.value) for v in variables]
    rng = np.random.default_rng(seed)
    try:
        base = mean_loss(model, x, y, loss_fn)
        rises = []
        for _ in range(directions):
            d = random_direction(weights, radius, rng, normalize)
            losses = []
            for sign in ((1.0, -1.0) if symmetric else (1.0,)):
                _assign(variables, [w + sign * dw for w, dw in zip(weights, d)])
                losses.append(mean_loss(model, x, y, loss_fn))
            rises.append(float(np.mean(losses)) - base)
    finally:
        _assign(variables, weights)
    rises = np.array(rises)
    return {"base_loss": base, "rise": float(rises.mean()), "rise_std": float(rises.std(ddof=1)) if directions > 1 else 0.0,
            "rises": rises.tolist(), "radius": radius, "directions": directions, "normalize": normalize,
            "symmetric": symmetric}


def _dot(a, b):
    return float(sum(np.vdot(u.astype(np.float64), v.astype(np.float64)) for u, v in zip(a, b)))


def top_hessian_eigenvalue(model, x, y, loss_fn=None, iters=30, eps=1e-3, tol=1e-3, seed=0):
    """The Hessian eigenvalue of largest magnitude at the model's weights, by power iteration.

    Each Hessian-vector product is `(g(w + h v) - g(w - h v)) / (2 h)` with `g` the gradient of
    `loss_fn` on `(x, y)` (inference mode) from `suite.backend.value_and_grads`, `v` a unit vector
    over all trainable weights and `h = eps * ||w||`. At a minimum the top eigenvalue is positive;
    if a negative eigenvalue has the larger magnitude, power iteration returns that one.

    Args:
        model: a trained `keras.Model`.
        x, y: a fixed evaluation set (NumPy), used in one batch.
        loss_fn: a Keras loss. Defaults to sparse categorical cross-entropy.
        iters: maximum power iterations. Defaults to `30`.
        eps: finite-difference step relative to the global weight norm. Defaults to `1e-3`.
        tol: stop when the Rayleigh quotient changes by less than `tol` times its size.
            Defaults to `1e-3`.
        seed: seed of the starting vector. Defaults to `0`.

    Returns:
        `dict(eigenvalue, iterations, converged, trace)`: the last Rayleigh quotient `v.Hv`, the
        iterations run, whether the tolerance was met, and the quotient at every iteration.

    Example:
        >>> top_hessian_eigenvalue(model, x_train[:1000], y_train[:1000])["eigenvalue"]  # doctest: +SKIP
        21.3
    """
    loss_fn = _loss_fn(loss_fn)
    variables = list(model.trainable_variables)
    weights = [keras.ops.convert_to_numpy(v.value).astype(np.float64) for v in variables]
    h = eps * math.sqrt(_dot(weights, weights))
    if h == 0:
        raise ValueError("all weights are zero: pass a model with nonzero weights or use an absolute step")

    def grad_at(v, sign):
        _assign(variables, [w + sign * h * dv for w, dv in zip(weights, v)])
        return backend.value_and_grads(model, x, y, loss_fn, training=False)[1]

    rng = np.random.default_rng(seed)
    v = [rng.standard_normal(w.shape) for w in weights]
    trace, converged = [], False
    try:
        for _ in range(iters):
            norm = math.sqrt(_dot(v, v))
            v = [dv / norm for dv in v]
            hv = [(gp.astype(np.float64) - gm.astype(np.float64)) / (2 * h)
                  for gp, gm in zip(grad_at(v, 1.0), grad_at(v, -1.0))]
            trace.append(_dot(v, hv))
            if len(trace) > 1 and abs(trace[-1] - trace[-2]) <= tol * abs(trace[-1]):
                converged = True
                break
            v = hv
    finally:
        _assign(variables, weights)
    return {"eigenvalue": trace[-1], "iterations": len(trace), "converged": converged, "trace": trace}
