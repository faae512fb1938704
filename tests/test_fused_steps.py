"""JAX on a CPU: fit's steps fused into one `lax.scan` per chunk train exactly as Keras's own loop."""

import keras
import numpy as np
import pytest

from suite import backend
from suite.models.cnn import cifar_cnn
from suite.models.mlp import mlp
from suite.training import compile_fast

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="fusing applies to JAX only")


def _train(fuse, x, y, epochs=2):
    keras.utils.set_random_seed(3)
    model = mlp(dropout=0.2, l2=1e-3)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=64)
    if fuse:
        backend.fuse_train_steps(model)
        assert model.train_function is not None
    history = model.fit(x, y, batch_size=32, epochs=epochs, validation_data=(x[:200], y[:200]), verbose=0)
    return model.get_weights(), history.history


def test_fused_steps_give_bit_identical_training():
    rng = np.random.default_rng(0)
    x = rng.random((2200, 28, 28)).astype("float32")  # 68 full batches and one of 24: a 64-step chunk,
    y = (x[:, 10:18, 10:18].mean(axis=(1, 2)) * 20).astype(int) % 10  # a short one and a partial batch
    keras_weights, keras_history = _train(False, x, y)
    fused_weights, fused_history = _train(True, x, y)
    for a, b in zip(keras_weights, fused_weights):
        np.testing.assert_array_equal(a, b)
    assert fused_history == keras_history
    assert keras_history["loss"][1] < keras_history["loss"][0]  # it trained


def test_only_dense_models_on_cpu_with_chunks_are_fused():
    model = cifar_cnn()
    compile_fast(model, keras.optimizers.Adam(1e-3))
    assert model.train_function is None  # convolutions: Keras's own loop (XLA:CPU convs in loops are slow)
    model = mlp()
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", steps_per_execution=1)
    backend.fuse_train_steps(model)
    assert model.train_function is None  # nothing to fuse
    model = mlp()
    compile_fast(model, keras.optimizers.Adam(1e-3))
    assert model.train_function is not None
