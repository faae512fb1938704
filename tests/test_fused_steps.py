"""JAX on a CPU: fit's steps fused into one `lax.scan` per chunk train exactly as Keras's own loop."""

import keras
import numpy as np
import pytest

from suite import backend
from suite.models.cnn import cifar_cnn
from suite.models.mlp import mlp
from suite.training.fit import compile_fast

pytestmark = pytest.mark.skipif(keras.backend.backend() != "jax", reason="fusing applies to JAX only")


def _train(fuse, x, y, epochs=2, lr=1e-3, seed=3):
    keras.utils.set_random_seed(seed)
    model = mlp(dropout=0.2, l2=1e-3)
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=64)
    if fuse:
        backend.fuse_train_steps(model)
        assert model.train_function is not None
    history = model.fit(x, y, batch_size=32, epochs=epochs, validation_data=(x[:200], y[:200]), verbose=0)
    return model.get_weights(), history.history


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((2200, 28, 28)).astype("float32")  # 68 full batches and one of 24: a 64-step chunk,
    y = (x[:, 10:18, 10:18].mean(axis=(1, 2)) * 20).astype(int) % 10  # a short one and a partial batch
    return x, y


def _assert_same(a, b):
    for wa, wb in zip(a[0], b[0]):
        np.testing.assert_array_equal(wa, wb)
    assert a[1] == b[1]


def test_fused_steps_give_bit_identical_training():
    x, y = _data()
    keras_run, fused_run = _train(False, x, y), _train(True, x, y)
    _assert_same(fused_run, keras_run)
    assert keras_run[1]["loss"][1] < keras_run[1]["loss"][0]  # it trained


def test_models_compiled_alike_share_one_scan_and_still_train_as_keras():
    x, y = _data()
    first = _train(True, x, y, lr=1e-3, seed=3)
    shared = len(backend.get()._SCANS)
    second = _train(True, x, y, lr=3e-3, seed=4)  # another model, seed and learning rate: the same scan
    assert len(backend.get()._SCANS) == shared
    _assert_same(second, _train(False, x, y, lr=3e-3, seed=4))
    _assert_same(first, _train(False, x, y, lr=1e-3, seed=3))


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
