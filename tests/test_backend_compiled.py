"""The compiled-gradient cache: one compiled function per architecture, never per model."""

import keras
import numpy as np

from suite import backend
from suite.backend.compiled import Cache, architecture
from suite.models.mlp import mlp


def test_same_architecture_same_key_whatever_the_names():
    a, b = mlp(dropout=0.1), mlp(dropout=0.1)  # no clear_session: layer and seed-generator names differ
    assert architecture(a) == architecture(b)
    assert architecture(mlp(hidden=(64,), dropout=0.1)) != architecture(a)
    assert architecture(mlp(dropout=0.0)) != architecture(a)


def test_subclassed_models_are_not_shared():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    assert architecture(Net()) is None


def test_cache_builds_once_per_architecture_and_uses_each_models_weights():
    builds = []

    def build(model, loss_fn, training, batched):
        builds.append((training, batched))
        return lambda trainable, non_trainable, x, y: float(np.sum(keras.ops.convert_to_numpy(trainable[0])))

    cache, loss = Cache(build), keras.losses.SparseCategoricalCrossentropy()
    a, b = mlp(), mlp()
    b.trainable_variables[0].assign(np.ones(b.trainable_variables[0].shape))
    assert cache(a, None, None, loss, False, False) != cache(b, None, None, loss, False, False) == 784 * 128
    cache(a, None, None, loss, False, True)
    assert builds == [(False, False), (False, True)]


def test_shared_function_gives_each_model_its_own_gradients():
    """Two models of one architecture through one compiled function, against the uncompiled path."""
    x = np.random.default_rng(0).random((2, 16, 28, 28)).astype("float32")
    y = np.random.default_rng(1).integers(0, 10, (2, 16))
    loss = keras.losses.SparseCategoricalCrossentropy()
    first = None
    for seed in (0, 1):
        keras.utils.set_random_seed(seed)
        model = mlp(dropout=0.1)
        losses, grads = backend.batch_grads(model, x, y, loss)
        for k in range(2):
            value, expected = backend.grads_of(lambda: loss(y[k], model(x[k], training=False)),
                                               model.trainable_variables)
            assert abs(losses[k] - value) < 1e-6
            for g, e in zip(grads, expected):
                np.testing.assert_allclose(g[k], e, rtol=1e-5, atol=1e-7)
        if first is None:
            first = grads[0]
    assert not np.allclose(first, grads[0])  # different weights, different gradients
