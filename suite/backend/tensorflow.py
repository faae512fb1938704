"""TensorFlow: gradients with `tf.GradientTape`."""

import contextlib

import numpy as np
import tensorflow as tf

ACCUMULATES = False


def value_and_grads(model, x, y, loss_fn, training=False):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=training))
    grads = tape.gradient(loss, model.trainable_variables)
    return float(loss), [np.zeros(v.shape, v.dtype) if g is None else g.numpy()
                         for g, v in zip(grads, model.trainable_variables)]


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


def enable_determinism():
    """Deterministic kernels (GPU included); some ops then raise instead of running nondeterministically."""
    tf.config.experimental.enable_op_determinism()
