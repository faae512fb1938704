"""JAX: gradients with `jax.value_and_grad` over the model's `stateless_call`.

`value_and_grads` is jitted. XLA compilation costs about as much as a few epochs of a small
MLP's probe work, so compiled functions are shared by models of the same architecture (same
config up to layer names, same variables), which is what the arms and seeds of a study build:
the compiled function depends only on the architecture, never on a model's weights.
"""

import json
import weakref
from collections import OrderedDict

import jax
import keras
import numpy as np

ACCUMULATES = False
_COMPILED = OrderedDict()  # architecture key -> (model traced, loss_fn, jitted value-and-grad)
_MAX_COMPILED = 16
_KEYS = weakref.WeakKeyDictionary()  # model -> its architecture key (computing one costs a config dump)


def _architecture(model):
    """A key equal for models that compute the same function of (variables, inputs), or None.

    Only Functional and Sequential models built from Keras's own layers qualify: their config
    describes them fully. Any other model gets its own compiled function.
    """
    if type(model).__name__ not in ("Functional", "Sequential") or not all(
            type(layer).__module__.startswith("keras.") for layer in model._flatten_layers(include_self=False)):
        return None
    text = json.dumps(model.get_config(), sort_keys=True, default=repr)
    for i, layer in enumerate(model.layers):
        text = text.replace(json.dumps(layer.name), f'"layer{i}"')
    text = text.replace(json.dumps(model.name), '"model"')
    variables = [(v.path, tuple(v.shape), str(v.dtype), v.trainable) for v in model.variables]
    return text, repr(variables)


def _loss_key(loss_fn):
    """Keras losses with equal configs compute the same function; anything else is its own key."""
    if isinstance(loss_fn, keras.losses.Loss) and type(loss_fn).__module__.startswith("keras."):
        return type(loss_fn).__name__, json.dumps(loss_fn.get_config(), sort_keys=True, default=repr)
    return "object", id(loss_fn)


def _compiled(model, loss_fn, training):
    if model not in _KEYS:
        try:
            _KEYS[model] = _architecture(model)
        except Exception:  # a config that does not serialize: compile for this object alone
            _KEYS[model] = None
    architecture = _KEYS[model]
    key = (architecture or ("object", id(model)), _loss_key(loss_fn), bool(training))
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
        return _COMPILED[key][2]
    traced = model  # kept alive with its entry, as is loss_fn: a key may hold their ids

    def loss_of(params, non_trainable, x, y):
        out, _ = traced.stateless_call(params, non_trainable, x, training=training)
        return loss_fn(y, out)

    _COMPILED[key] = (model, loss_fn, jax.jit(jax.value_and_grad(loss_of)))
    if len(_COMPILED) > _MAX_COMPILED:
        _COMPILED.popitem(last=False)
    return _COMPILED[key][2]


def value_and_grads(model, x, y, loss_fn, training=False):
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    loss, grads = _compiled(model, loss_fn, training)(trainable, non_trainable, x, y)
    return float(loss), [np.asarray(g) for g in grads]


def grads_of(fn, variables):
    def value_of(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return fn()

    value, grads = jax.value_and_grad(value_of)([v.value for v in variables])
    return float(value), [np.asarray(g) for g in grads]


def backward_twice(fn, variables):
    first, second = grads_of(fn, variables)[1], grads_of(fn, variables)[1]
    return [a + b for a, b in zip(first, second)]


def float64():
    return jax.enable_x64(True)


def devices():
    return [str(d) for d in jax.devices() if d.platform != "cpu"]


def enable_determinism():
    """Nothing to do after import: XLA reads `--xla_gpu_deterministic_ops` from XLA_FLAGS (see `prepare`)."""
