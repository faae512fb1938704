"""The only backend-specific code: one module per backend exposing the same functions.

- `value_and_grads(model, x, y, loss_fn, training=False)` -> `(loss, grads)`: the mean loss of
  `model` on `(x, y)` and its gradients as NumPy arrays aligned with `model.trainable_variables`.
  The loss is `loss_fn(y, model(x))` only: regularization penalties (`model.losses`) are left out.
- `batch_grads(model, xs, ys, loss_fn, training=False)` -> `(losses, grads)`: the same for K
  minibatches stacked on a leading axis of `xs` and `ys`, in one call where the backend allows:
  `losses` has shape (K,), and each variable's gradients shape (K, *variable.shape).
- `grads_of(fn, variables)` -> `(value, grads)`: the value of `fn()`, a scalar function of Keras
  variables written with `keras.ops`, and its gradient with respect to each variable (NumPy),
  or `None` where the backend reports the variable as disconnected from `fn` (TensorFlow and
  PyTorch do; JAX returns zeros).
- `backward_twice(fn, variables)` -> grads after two backward passes through `fn`, each done in
  the backend's own idiom: PyTorch accumulates into `.grad` by itself (`loss.backward()` twice);
  TensorFlow and JAX return fresh gradients per call, so the two are summed explicitly.
- `fuse_train_steps(model)`: after `compile()`, make `fit` run each `steps_per_execution` chunk
  of steps in one compiled call where Keras does not already (JAX on a CPU, dense models).
- `STEPS_PER_EXECUTION`: backend name -> the `steps_per_execution` that makes `fit` fast there.
- `ACCUMULATES`: whether the backend's idiom accumulates gradients implicitly.
- `float64()`: a context manager inside which float64 arrays stay float64 (JAX needs
  `jax_enable_x64`; the others always allow it).
- `devices()` -> names of the accelerators the backend sees (empty on a CPU-only machine).
- `enable_determinism()`: the backend's switch for deterministic kernels (see `prepare`).
- `limit_threads(n)`: the backend's own thread pools limited to n (with `thread_env(n)` before import).

`get()` returns the module of the current Keras backend; an unknown backend is an error.
"""

import importlib
import os

from suite import SuiteError

# Read by the libraries when they load, so `prepare` sets them before keras is imported.
_DETERMINISM_ENV = {
    "XLA_FLAGS": "--xla_gpu_deterministic_ops=true",  # JAX (and TF's XLA) on GPU
    "CUBLAS_WORKSPACE_CONFIG": ":4096:8",  # deterministic cuBLAS for torch
    "TF_CUDNN_DETERMINISTIC": "1",
}

BACKENDS = ("tensorflow", "jax", "torch")  # the Keras backends the suite runs on; the first is the default
PACKAGES = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "jax": ("jax",), "torch": ("torch",)}  # for versions
_MODULES = {"tensorflow": "suite.backend.tensorflow", "jax": "suite.backend.jax", "torch": "suite.backend.torch"}

# Training steps per call of Keras's train function (`compile(steps_per_execution=...)`): TensorFlow
# loops over them inside one graph call; Keras's JAX trainer dispatches each step from Python, so on
# a CPU `fuse_train_steps` scans a dense model's chunk in one call instead (see
# benchmarks/RESULTS.md). Keras on torch does not support it.
STEPS_PER_EXECUTION = {"tensorflow": 64, "jax": 64, "torch": 1}


def get(name=None):
    """The adapter module for backend `name` (default: the current Keras backend)."""
    import keras  # here, so that `prepare` can run before keras is imported

    name = name or keras.backend.backend()
    if name not in _MODULES:
        raise SuiteError(f"no gradient adapter for backend {name!r}: use one of {', '.join(_MODULES)} "
                         f"(set KERAS_BACKEND before starting Python)")
    return importlib.import_module(_MODULES[name])


def value_and_grads(model, x, y, loss_fn, training=False):
    """Loss and per-variable gradients (NumPy) on the current backend; see the module docstring."""
    return get().value_and_grads(model, x, y, loss_fn, training)


def batch_grads(model, xs, ys, loss_fn, training=False):
    """Per-minibatch losses and gradients (NumPy, minibatches first); see the module docstring."""
    return get().batch_grads(model, xs, ys, loss_fn, training)


def grads_of(fn, variables):
    """Value of `fn()` and its gradients with respect to `variables`; see the module docstring."""
    return get().grads_of(fn, list(variables))


def backward_twice(fn, variables):
    """Gradients after two backward passes in the backend's idiom; see the module docstring."""
    return get().backward_twice(fn, list(variables))


def fuse_train_steps(model):
    """Fit's `steps_per_execution` chunks in one compiled call each; see the module docstring."""
    get().fuse_train_steps(model)


def accumulates():
    """Whether the current backend's idiom accumulates gradients over backward passes by itself."""
    return get().ACCUMULATES


def float64():
    """Context manager in which float64 tensors keep their precision on the current backend."""
    return get().float64()


def devices():
    return get().devices()


def prepare(deterministic=False):
    """Set what the backends read at import time; call before `keras` is imported.

    On a CPU the suite's runs are deterministic already (same seed, same numbers: tested per
    backend). On a GPU, XLA's and cuDNN's fastest kernels use atomics and autotuning whose
    results vary run to run; `deterministic=True` asks each backend for deterministic ones,
    at some cost in speed.
    """
    if deterministic:
        for key, value in _DETERMINISM_ENV.items():
            current = os.environ.get(key, "")
            if value not in current:
                os.environ[key] = f"{current} {value}".strip() if key == "XLA_FLAGS" else value


def thread_env(threads):
    """Environment settings that limit a process to `threads` CPU threads; set before keras loads.

    OpenMP and MKL read `*_NUM_THREADS` (torch's CPU kernels, NumPy's BLAS); XLA's CPU client
    (JAX, and TensorFlow's jit-compiled steps) runs single-threaded with its Eigen pool off.
    """
    env = {k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        extra = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        env["XLA_FLAGS"] = flags if extra in flags else f"{flags} {extra}".strip()
    return env


def limit_threads(threads):
    """After import: the current backend's own thread pools limited to `threads` (TF, torch)."""
    get().limit_threads(threads)


def enable_determinism():
    """After import: the current backend's deterministic-kernel switch (with `prepare(True)` before)."""
    get().enable_determinism()
