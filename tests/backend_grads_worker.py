"""Run by tests/test_backend_grads.py in a fresh process per backend (KERAS_BACKEND set by the caller).

Builds a small MLP with fixed NumPy weights in float64 and float32, takes the adapter's
gradients and `grads_of` on raw variables, and saves them to the .npz path given as the only
argument. The finite-difference reference is computed by the test in NumPy (float64), since
Keras computes some float64 ops in float32 on PyTorch and JAX (see the test).
"""

import sys

import keras
import numpy as np

from suite import backend

SIZES = (6, 5, 4, 3)  # inputs, two hidden layers, classes


def mean_ce(y, p):
    """Mean sparse cross-entropy as sum / n. With float64 inputs (Keras 3.15.1), `keras.ops.mean`
    computes in float32 on JAX and PyTorch, and `SparseCategoricalCrossentropy()`'s reduction
    returns float32 on PyTorch; `keras.ops.sum` keeps float64."""
    ce = keras.losses.sparse_categorical_crossentropy(y, p)
    return keras.ops.sum(ce) / ce.shape[0]


def weights():
    rng = np.random.default_rng(42)
    out = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        out += [rng.normal(0, 1 / np.sqrt(fan_in), (fan_in, fan_out)), rng.normal(0, 0.1, fan_out)]
    return out


def batch():
    rng = np.random.default_rng(7)
    return rng.normal(size=(16, SIZES[0])), rng.integers(0, SIZES[-1], 16)


# No tanh: JAX's CPU tanh is a fast approximation, ~2e-7 off even in float64 (measured with
# JAX 0.10), which finite differences at EPS=1e-6 magnify into a ~1% gradient "error".
def model(dtype):
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)  # the global policy is fixed at first use otherwise
    inputs = keras.Input((SIZES[0],))
    h = keras.layers.Dense(SIZES[1], activation="sigmoid", name="hidden1")(inputs)
    h = keras.layers.Dense(SIZES[2], activation="relu", name="hidden2")(h)
    out = keras.layers.Dense(SIZES[3], activation="softmax", name="logits")(h)
    m = keras.Model(inputs, out)
    m.set_weights([w.astype(dtype) for w in weights()])
    return m


def raw_variable_grads(dtype):
    """grads_of on a function of raw variables: f(W, b) = sum(sigmoid(x W + b)^2), against its derivative."""
    x, _ = batch()
    w0, b0 = weights()[:2]
    w, b = keras.Variable(w0.astype(dtype)), keras.Variable(b0.astype(dtype))
    xt = keras.ops.convert_to_tensor(x.astype(dtype))
    value, (gw, gb) = backend.grads_of(lambda: keras.ops.sum(keras.ops.sigmoid(xt @ w + b) ** 2), [w, b])
    t = 1 / (1 + np.exp(-(x @ w0 + b0)))
    delta = 2 * t * t * (1 - t)
    return value, gw, gb, float((t**2).sum()), x.T @ delta, delta.sum(axis=0)


def main(path):
    x, y = batch()
    out = {"backend": keras.backend.backend()}
    with backend.float64():
        m = model("float64")
        loss_fn = mean_ce
        loss, grads = backend.value_and_grads(m, x, y, loss_fn)
        halves_loss, halves = backend.batch_grads(m, x.reshape(2, 8, -1), y.reshape(2, 8), loss_fn)
        quarters = backend.batch_grads(m, x.reshape(4, 4, -1), y.reshape(4, 4), loss_fn)[1]  # a second shape
        out.update(loss64=loss, dtype64=str(keras.ops.convert_to_numpy(m.trainable_variables[0]).dtype))
        raw = raw_variable_grads("float64")
    m32 = model("float32")
    loss32, grads32 = backend.value_and_grads(m32, x.astype("float32"), y, loss_fn)
    for i, (g, g32) in enumerate(zip(grads, grads32)):
        out[f"grad64_{i}"], out[f"grad32_{i}"] = g, g32
    out["norms64"] = [np.linalg.norm(g) for g in grads]
    out["halves_loss"] = halves_loss
    for i, (g, q) in enumerate(zip(halves, quarters)):
        out[f"halves_{i}"], out[f"quarters_{i}"] = g, q
    out["names"] = [v.path for v in m.trainable_variables]
    out["loss32"] = loss32
    out["raw_value"], out["raw_gw"], out["raw_gb"], out["raw_value_ref"], out["raw_gw_ref"], out["raw_gb_ref"] = raw
    np.savez(path, **out)


if __name__ == "__main__":
    main(sys.argv[1])
