"""The gradient adapters (suite/backend) against finite differences and against each other.

Each backend runs `tests/backend_grads_worker.py` in its own process (the backend is fixed at
import), on the same small MLP (6-5-4-3, tanh and ReLU, fixed NumPy weights) and the same batch.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import BACKENDS, ROOT

sys.path.insert(0, str(ROOT / "tests"))
from backend_grads_worker import batch, weights  # noqa: E402  (loads Keras on the test's backend; unused here)

WORKER = ROOT / "tests" / "backend_grads_worker.py"
FLOAT64_RTOL = 1e-7  # float64 gradients vs float64 central differences (eps 1e-6): relative error per variable
FLOAT32_RTOL = 1e-4  # float32 gradients, and PyTorch's "float64" (below), vs the same differences
# Keras 3.15 promotes float64 to float32 on JAX and PyTorch (BIT64_TO_BIT32_DTYPE in
# keras/src/backend/common/dtypes.py): on PyTorch `keras.ops.matmul` of two float64 tensors
# computes in float32, so a float64 Dense model is float32-accurate there. TensorFlow and JAX
# (with x64) keep float64 through this model.
FLOAT64_EXACT = {"tensorflow": True, "jax": True, "torch": False}


def numpy_loss(params, x, y):
    """The worker's network in NumPy float64: sigmoid, ReLU, softmax, mean cross-entropy."""
    h1 = 1 / (1 + np.exp(-(x @ params[0] + params[1])))
    h2 = np.maximum(h1 @ params[2] + params[3], 0)
    z = h2 @ params[4] + params[5]
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


@pytest.fixture(scope="module")
def finite_differences():
    """Central differences (eps 1e-6) of `numpy_loss` for every weight."""
    params, (x, y) = weights(), batch()
    out = []
    for p in params:
        g = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            p[i] += 1e-6
            up = numpy_loss(params, x, y)
            p[i] -= 2e-6
            down = numpy_loss(params, x, y)
            p[i] += 1e-6
            g[i] = (up - down) / 2e-6
        out.append(g)
    return out


@pytest.fixture(scope="module")
def grads(tmp_path_factory):
    """Per backend: the worker's saved arrays (computed once per test session)."""
    cache = {}

    def get(backend):
        if backend not in cache:
            path = tmp_path_factory.mktemp(backend) / "grads.npz"
            env = {**os.environ, "KERAS_BACKEND": backend, "JAX_ENABLE_X64": "1", "TF_CPP_MIN_LOG_LEVEL": "3",
                   "PYTHONPATH": str(ROOT)}
            proc = subprocess.run([sys.executable, str(WORKER), str(path)], env=env, cwd=ROOT, capture_output=True,
                                  text=True, timeout=600)
            assert proc.returncode == 0, proc.stderr[-4000:]
            cache[backend] = dict(np.load(path))
        return cache[backend]

    return get


def _rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


@pytest.mark.parametrize("backend", BACKENDS)
def test_float64_gradients_equal_finite_differences(grads, finite_differences, backend):
    g = grads(backend)
    assert str(g["dtype64"]) == "float64"  # JAX would silently compute in float32 without x64
    assert float(g["loss64"]) == pytest.approx(numpy_loss(weights(), *batch()),
                                               rel=1e-12 if FLOAT64_EXACT[backend] else 1e-6)
    rtol = FLOAT64_RTOL if FLOAT64_EXACT[backend] else FLOAT32_RTOL
    for i, name in enumerate(g["names"]):
        assert np.linalg.norm(g[f"grad64_{i}"]) > 0, name
        assert _rel(g[f"grad64_{i}"], finite_differences[i]) < rtol, name


@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_gradients_within_stated_tolerance(grads, finite_differences, backend):
    g = grads(backend)
    assert g["grad32_0"].dtype == np.float32
    for i, name in enumerate(g["names"]):
        assert _rel(g[f"grad32_{i}"].astype(np.float64), finite_differences[i]) < FLOAT32_RTOL, name
    assert abs(float(g["loss32"]) - float(g["loss64"])) < 1e-5


@pytest.mark.parametrize("backend", BACKENDS)
def test_grads_of_raw_variables(grads, backend):
    g = grads(backend)
    assert float(g["raw_value"]) == pytest.approx(float(g["raw_value_ref"]), rel=1e-12)
    assert _rel(g["raw_gw"], g["raw_gw_ref"]) < 1e-12
    assert _rel(g["raw_gb"], g["raw_gb_ref"]) < 1e-12


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_grads_are_the_gradients_of_each_minibatch(grads, backend):
    """The batch's two halves as K=2 minibatches: each loss is its half's, and (equal halves of a
    mean loss) the mean of the two gradients is the whole batch's gradient."""
    g, (x, y) = grads(backend), batch()
    rtol = 1e-10 if FLOAT64_EXACT[backend] else 1e-6
    np.testing.assert_allclose(g["halves_loss"], [numpy_loss(weights(), x[:8], y[:8]),
                                                  numpy_loss(weights(), x[8:], y[8:])], rtol=rtol)
    for i, name in enumerate(g["names"]):
        assert g[f"halves_{i}"].shape == (2, *g[f"grad64_{i}"].shape), name
        assert _rel(g[f"halves_{i}"].mean(axis=0), g[f"grad64_{i}"]) < rtol, name
        assert _rel(g[f"halves_{i}"][0], g[f"halves_{i}"][1]) > 1e-3, name  # two different minibatches
        assert g[f"quarters_{i}"].shape[0] == 4, name  # another minibatch count and size: traced again
        assert _rel(g[f"quarters_{i}"].mean(axis=0), g[f"grad64_{i}"]) < rtol, name


def test_same_weights_same_batch_same_gradient_norms_on_every_backend(grads):
    norms = {b: grads(b)["norms64"] for b in BACKENDS}
    names = [list(grads(b)["names"]) for b in BACKENDS]
    assert names[0] == names[1] == names[2]
    for b in BACKENDS[1:]:  # reference: TensorFlow, exact in float64
        rtol = 1e-10 if FLOAT64_EXACT[b] else 1e-6
        np.testing.assert_allclose(norms[b], norms[BACKENDS[0]], rtol=rtol, err_msg=b)
        assert float(grads(b)["loss64"]) == pytest.approx(float(grads(BACKENDS[0])["loss64"]), rel=rtol)


def test_unknown_backend_is_a_clear_error():
    from suite import SuiteError, backend

    with pytest.raises(SuiteError, match="no gradient adapter for backend 'mxnet'.*tensorflow, jax, torch"):
        backend.get("mxnet")
