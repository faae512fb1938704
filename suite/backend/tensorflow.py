"""TensorFlow: gradients with `tf.GradientTape`."""

import tensorflow as tf


def value_and_grads(model, x, y, loss_fn, training=False):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=training))
    grads = tape.gradient(loss, model.trainable_variables)
    return float(loss), [g.numpy() for g in grads]


def devices():
    return [d.name for d in tf.config.list_physical_devices() if d.device_type != "CPU"]
