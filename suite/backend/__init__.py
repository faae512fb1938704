"""The only backend-specific code: one module per backend exposing the same functions.

- `value_and_grads(model, x, y, loss_fn, training=False)` -> `(loss, grads)`: the mean loss of
  `model` on `(x, y)` and its gradients as NumPy arrays aligned with `model.trainable_variables`.
- `devices()` -> names of the accelerators the backend sees (empty on a CPU-only machine).

`get()` returns the module of the current Keras backend.
"""

import importlib

import keras

from suite import SuiteError

_MODULES = {"tensorflow": "suite.backend.tensorflow", "jax": "suite.backend.jax", "torch": "suite.backend.torch"}


def get(name=None):
    """The adapter module for backend `name` (default: the current Keras backend)."""
    name = name or keras.backend.backend()
    if name not in _MODULES:
        raise SuiteError(f"no gradient adapter for backend {name!r}: use one of {', '.join(_MODULES)}")
    return importlib.import_module(_MODULES[name])


def value_and_grads(model, x, y, loss_fn, training=False):
    """Loss and per-variable gradients (NumPy) on the current backend; see the module docstring."""
    return get().value_and_grads(model, x, y, loss_fn, training)


def devices():
    return get().devices()
