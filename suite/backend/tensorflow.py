"""TensorFlow: gradients with `tf.GradientTape` over the model's `stateless_call`, in a `tf.function`.

Traced functions are shared by models of the same architecture (`suite.backend.compiled`);
per-minibatch gradients are one call that loops over the minibatches inside the graph.
"""

import contextlib

import numpy as np
import tensorflow as tf

from suite.backend.compiled import Cache

ACCUMULATES = False


def _build(model, loss_fn, training, batched):
    def value_and_grad(params, non_trainable, x, y):
        with tf.GradientTape() as tape:
            tape.watch(params)
            out, _ = model.stateless_call(params, non_trainable, x, training=training)
            loss = loss_fn(y, out)
        return loss, tape.gradient(loss, params, unconnected_gradients=tf.UnconnectedGradients.ZERO)

    def per_batch(params, non_trainable, xs, ys):
        results = [value_and_grad(params, non_trainable, xs[k], ys[k]) for k in range(xs.shape[0])]
        return tf.stack([loss for loss, _ in results]), [tf.stack(g) for g in zip(*(grads for _, grads in results))]

    # Traced per input shape: relaxed shapes would leave the minibatch count unknown to the loop.
    return tf.function(per_batch if batched else value_and_grad)


_CACHE = Cache(_build)


def value_and_grads(model, x, y, loss_fn, training=False):
    loss, grads = _CACHE(model, x, y, loss_fn, training, batched=False)
    return float(loss), [g.numpy() for g in grads]


def batch_grads(model, xs, ys, loss_fn, training=False):
    losses, grads = _CACHE(model, xs, ys, loss_fn, training, batched=True)
    return losses.numpy(), [g.numpy() for g in grads]


def fuse_train_steps(model):
    """Nothing to do: Keras's TensorFlow trainer already runs a `steps_per_execution` chunk in one graph call."""


def grads_of(fn, variables):
    with tf.GradientTape() as tape:
        value = fn()
    grads = tape.gradient(value, [v.value for v in variables])
    return float(value), [None if g is None else g.numpy() for g in grads]


def backward_twice(fn, variables):
    grads = [grads_of(fn, variables)[1] for _ in range(2)]
    return [None if a is None else a + b for a, b in zip(*grads)]


def float64():
    return contextlib.nullcontext()


def devices():
    return [d.name for d in tf.config.list_physical_devices() if d.device_type != "CPU"]


def limit_threads(threads):
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def enable_determinism():
    """Deterministic kernels (GPU included); some ops then raise instead of running nondeterministically."""
    tf.config.experimental.enable_op_determinism()
