"""JAX: gradients with `jax.value_and_grad` over the model's `stateless_call`."""

import jax
import numpy as np


def value_and_grads(model, x, y, loss_fn, training=False):
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]

    def loss_of(params):
        out, _ = model.stateless_call(params, non_trainable, x, training=training)
        return loss_fn(y, out)

    loss, grads = jax.value_and_grad(loss_of)(trainable)
    return float(loss), [np.asarray(g) for g in grads]


def devices():
    return [str(d) for d in jax.devices() if d.platform != "cpu"]
