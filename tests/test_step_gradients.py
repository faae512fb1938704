"""suite.probes.StepGradientNorms: per-step gradient norms recorded inside the compiled train step
equal the adapter's gradients on the same minibatch, on every backend and with fused JAX steps,
and the wrapped optimizer trains exactly as the plain one."""

import json
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from conftest import BACKENDS, ROOT
from suite import backend
from suite.models.mlp import mlp
from suite.probes import StepGradientNorms

LOSS = keras.losses.SparseCategoricalCrossentropy()

# Trains a fixed-weight MLP for 2 epochs of 4 unshuffled minibatches and prints the recorded norms
# next to the adapter's gradient norms of every minibatch, recomputed from a replay of plain SGD.
SCRIPT = textwrap.dedent('''
    import json, sys
    import keras, numpy as np
    from suite import backend
    from suite.models.mlp import mlp
    from suite.probes import StepGradientNorms

    rng = np.random.default_rng(0)
    x = rng.random((64, 4, 4), dtype=np.float32)
    y = (x.reshape(64, -1).mean(1) > 0.5).astype("int64")
    loss = keras.losses.SparseCategoricalCrossentropy()

    def model():
        m = mlp(hidden=(8, 8), input_shape=(4, 4), classes=2)
        m.set_weights([np.random.default_rng(i).normal(0, 0.5, w.shape).astype("float32")
                       for i, w in enumerate(m.get_weights())])
        return m

    replay, expected = model(), []
    for epoch in range(2):
        for b in range(4):
            _, grads = backend.value_and_grads(replay, x[16 * b:16 * b + 16], y[16 * b:16 * b + 16], loss)
            expected.append([float(np.linalg.norm(g)) for g in grads])
            replay.set_weights([w - 0.1 * g for w, g in zip(replay.get_weights(), grads)])
    m, probe = model(), StepGradientNorms(4, keep=("hidden1/kernel",))
    fast = keras.backend.backend() != "torch"
    m.compile(optimizer=probe.wrap(keras.optimizers.SGD(0.1)), loss=loss, jit_compile=fast,
              steps_per_execution=2 if fast else 1)
    backend.fuse_train_steps(m)
    m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[probe])
    print(json.dumps({"history": probe.history, "expected": expected}))
''')


def _run(name):
    env = {"KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", BACKENDS)
def test_recorded_norms_are_the_minibatch_gradient_norms(name):
    out = _run(name)
    h, expected = out["history"], np.array(out["expected"])  # (8 steps, 6 variables)
    assert h["epoch"] == [1, 2] and h["step"] == list(range(1, 9))
    np.testing.assert_allclose(h["steps"]["hidden1/kernel"], expected[:, 0], rtol=2e-5)
    for e in range(2):
        np.testing.assert_allclose(h["mean"][e], expected[4 * e:4 * e + 4].mean(0), rtol=2e-5)
        np.testing.assert_allclose(h["var"][e], expected[4 * e:4 * e + 4].var(0), rtol=1e-3, atol=1e-9)


def _data():
    rng = np.random.default_rng(1)
    x = rng.random((96, 4, 4), dtype=np.float32)
    return x, (x.reshape(96, -1).mean(1) > 0.5).astype("int64")


def _fit(optimizer, callbacks=(), epochs=2, batch_size=16):
    keras.utils.set_random_seed(3)
    m = mlp(hidden=(8,), input_shape=(4, 4), classes=2)
    m.compile(optimizer=optimizer, loss=LOSS, jit_compile=True, steps_per_execution=3)
    backend.fuse_train_steps(m)
    x, y = _data()
    m.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=list(callbacks))
    return m


def test_the_wrapped_optimizer_trains_exactly_as_the_plain_one_and_thins_its_series():
    probe = StepGradientNorms(6, keep=("logits/kernel",), thin=4)
    wrapped = _fit(probe.wrap(keras.optimizers.Adam(1e-2)), [probe], epochs=3)
    plain = _fit(keras.optimizers.Adam(1e-2), epochs=3)
    for a, b in zip(wrapped.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)
    h = probe.history
    assert h["step"] == [4, 8, 12, 16] and len(h["steps"]["logits/kernel"]) == 4
    assert len(h["mean"]) == 3 and all(len(row) == len(h["variables"]) == 4 for row in h["mean"])
    assert all(v > 0 for row in h["mean"] for v in row)


def test_misuse_is_a_clear_error():
    with pytest.raises(ValueError, match="wrap"):
        _fit(keras.optimizers.SGD(0.1), [StepGradientNorms(6)])
    small = StepGradientNorms(3)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        _fit(small.wrap(keras.optimizers.SGD(0.1)), [small])
    named = StepGradientNorms(6, keep=("nope/kernel",))
    with pytest.raises(ValueError, match="nope/kernel"):
        _fit(named.wrap(keras.optimizers.SGD(0.1)), [named])
