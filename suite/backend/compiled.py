"""Compiled gradient functions, shared by the models of one architecture (TensorFlow and JAX).

Compiling (XLA on JAX, graph tracing on TensorFlow) costs about as much as a few epochs of a
small MLP's probe work. The compiled function takes the variables' values as arguments
(`model.stateless_call`), so it depends only on the architecture, never on a model's weights,
and one compilation serves every arm and seed of a study.
"""

import json
import weakref
from collections import OrderedDict

import keras


def architecture(model):
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
    # Not the variables' paths: those of seed generators carry a per-session counter.
    variables = [(tuple(v.shape), str(v.dtype), v.trainable) for v in model.variables]
    return text, repr(variables)


def loss_key(loss_fn):
    """Keras losses with equal configs compute the same function; anything else is its own key."""
    if isinstance(loss_fn, keras.losses.Loss) and type(loss_fn).__module__.startswith("keras."):
        return type(loss_fn).__name__, json.dumps(loss_fn.get_config(), sort_keys=True, default=repr)
    return "object", id(loss_fn)


class Shared:
    """The latest `size` compiled functions by key, each kept alive with the objects it was built from.

    A key may hold an object's id, so the objects stay alive as long as their entry.
    """

    def __init__(self, size=16):
        self.size = size
        self._entries = OrderedDict()  # key -> (objects built from, compiled function)

    def __len__(self):
        return len(self._entries)

    def get(self, key, build, *built_from):
        """The function stored under `key`, else `build()`, stored unless `key` is None."""
        if key is None:
            return build()
        if key not in self._entries:
            self._entries[key] = (built_from, build())
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        self._entries.move_to_end(key)
        return self._entries[key][1]


class Cache:
    """The compiled gradient functions of the latest `size` (architecture, loss, mode, batched) combinations.

    Args:
        build: `build(model, loss_fn, training, batched)` -> a function of
            `(trainable_values, non_trainable_values, x, y)` returning `(loss, grads)`; with
            `batched`, `x` and `y` carry a leading axis of minibatches and so do the results.
        size: how many compiled functions to keep. Defaults to `16`.
    """

    def __init__(self, build, size=16):
        self.build = build
        self._functions = Shared(size)
        self._keys = weakref.WeakKeyDictionary()  # model -> its architecture key (a config dump each)

    def get(self, model, loss_fn, training, batched):
        if model not in self._keys:
            try:
                self._keys[model] = architecture(model)
            except Exception:  # a config that does not serialize: compile for this object alone
                self._keys[model] = None
        key = (self._keys[model] or ("object", id(model)), loss_key(loss_fn), bool(training), bool(batched))
        return self._functions.get(key, lambda: self.build(model, loss_fn, bool(training), bool(batched)),
                                   model, loss_fn)

    def __call__(self, model, x, y, loss_fn, training, batched):
        """`(loss, grads)` of `model` on `(x, y)` with the values of its variables now."""
        function = self.get(model, loss_fn, training, batched)
        return function([v.value for v in model.trainable_variables],
                        [v.value for v in model.non_trainable_variables], x, y)
