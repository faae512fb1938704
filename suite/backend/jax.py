"""JAX: gradients with `jax.value_and_grad` over the model's `stateless_call`, jitted.

Compiled functions are shared by models of the same architecture (`suite.backend.compiled`);
per-minibatch gradients are one `jax.vmap`ped call.
"""

import jax
import keras
import numpy as np

from suite.backend.compiled import Cache

ACCUMULATES = False


def _build(model, loss_fn, training, batched):
    def loss_of(params, non_trainable, x, y):
        out, _ = model.stateless_call(params, non_trainable, x, training=training)
        return loss_fn(y, out)

    function = jax.value_and_grad(loss_of)
    if batched:
        function = jax.vmap(function, in_axes=(None, None, 0, 0))
    return jax.jit(function)


_CACHE = Cache(_build)


def value_and_grads(model, x, y, loss_fn, training=False):
    loss, grads = _CACHE(model, x, y, loss_fn, training, batched=False)
    return float(loss), [np.asarray(g) for g in grads]


def batch_grads(model, xs, ys, loss_fn, training=False):
    losses, grads = _CACHE(model, xs, ys, loss_fn, training, batched=True)
    return np.asarray(losses), [np.asarray(g) for g in grads]


def grads_of(fn, variables):
    def value_of(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn()

    value, grads = jax.value_and_grad(value_of)([v.value for v in variables])
    return float(value), [np.asarray(g) for g in grads]


def backward_twice(fn, variables):
    first, second = grads_of(fn, variables)[1], grads_of(fn, variables)[1]
    return [a + b for a, b in zip(first, second)]


def float64():
    return jax.enable_x64(True)


def devices():
    return [str(d) for d in jax.devices() if d.platform != "cpu"]


def enable_determinism():
    """Nothing to do after import: XLA reads `--xla_gpu_deterministic_ops` from XLA_FLAGS (see `prepare`)."""
