"""JAX: gradients with `jax.value_and_grad` over the model's `stateless_call`, jitted; fused training steps.

Compiled functions are shared by models of the same architecture (`suite.backend.compiled`);
per-minibatch gradients are one `jax.vmap`ped call.
"""

import functools
import itertools
import json

import jax
import keras
import numpy as np

from suite.backend.compiled import Cache, Shared, architecture

ACCUMULATES = False
# Layers whose training steps run faster scanned than dispatched one by one on XLA:CPU (measured).
FUSABLE = {"InputLayer", "Flatten", "Dense", "Dropout", "Activation", "Softmax", "Reshape", "Rescaling"}


def _build(model, loss_fn, training, batched):
    def loss_of(params, non_trainable, x, y):
        out, _ = model.stateless_call(params, non_trainable, x, training=training)
        return loss_fn(y, out)

    function = jax.value_and_grad(loss_of)
    if batched:
        function = jax.vmap(function, in_axes=(None, None, 0, 0))
    return jax.jit(function)


_CACHE = Cache(_build)


def value_and_grads(model, x, y, loss_fn, training=False):
    loss, grads = _CACHE(model, x, y, loss_fn, training, batched=False)
    return float(loss), [np.asarray(g) for g in grads]


def batch_grads(model, xs, ys, loss_fn, training=False):
    losses, grads = _CACHE(model, xs, ys, loss_fn, training, batched=True)
    return np.asarray(losses), [np.asarray(g) for g in grads]


def fuse_train_steps(model):
    """On a CPU, run each `steps_per_execution` chunk of `model.fit` as one compiled `jax.lax.scan`.

    Keras's JAX trainer dispatches the chunk's steps one by one from Python (its TensorFlow
    trainer loops inside one graph call); on a CPU that dispatch dominates a small model's step.
    This sets `model.train_function` (which `compile()` resets) to one that stacks the chunk's
    batches and scans `model.train_step` over them: the same steps in the same order (the
    weights come out bit-identical, tested), one call. Consecutive batches of one shape go
    together; a shorter last chunk and a smaller last batch compile their own scans. Models of
    one architecture compiled alike (the learning rate aside: it is optimizer state) share the
    compiled scans, so the seeds and arms of a study compile once where Keras compiles per model.

    Only for models made of `FUSABLE` layers on a CPU: XLA:CPU runs convolutions inside a loop
    many times slower (measured 20x on the CIFAR CNN; jax-ml/jax#12868), and XLA:GPU runs loop
    control on the host (jax-ml/jax#2491). Does nothing either for `steps_per_execution=1`,
    `run_eagerly` or without `jit_compile`.
    """
    layers = {type(layer).__name__ for layer in model._flatten_layers(include_self=False)}
    if (model.steps_per_execution <= 1 or model.run_eagerly or not model.jit_compile
            or jax.default_backend() != "cpu" or not layers <= FUSABLE):
        return
    steps, scan = model.steps_per_execution, _scan_for(model)

    def train_function(state, iterator):
        chunk = list(itertools.islice(iterator, steps))
        if not chunk:
            raise StopIteration  # the epoch's data are used up (Keras's loop catches it)
        for _, group in itertools.groupby(chunk, key=_shapes):
            logs, state = scan(state, jax.tree_util.tree_map(_stack, *group))
        return logs, state

    model.train_function = train_function


_SCANS = Shared()  # training key -> the jitted scan of the first model with that key


def _training_key(model):
    """Equal for models whose train steps compute the same function of (state, data), or None."""
    try:
        model_key = architecture(model)
        config = model.get_compile_config()
    except Exception:  # a config that does not serialize: no sharing
        return None
    if model_key is None or not config:
        return None
    optimizer = {k: v for k, v in config["optimizer"]["config"].items() if k != "name"}  # names carry counters
    if isinstance(optimizer.get("learning_rate"), (int, float)):
        optimizer["learning_rate"] = "a variable in the optimizer's state"
    config = {**config, "optimizer": {**config["optimizer"], "config": optimizer}}
    return model_key, json.dumps(config, sort_keys=True, default=repr)


def _scan_for(model):
    """A jitted `lax.scan` of `model.train_step` over stacked batches, shared by equal training keys."""
    def body(state, data):
        logs, state = model.train_step(state, data)
        return state, logs

    def build():
        @functools.partial(jax.jit, donate_argnums=0)  # as Keras's own step: the old state is not reused
        def scan(state, stacked):
            state, logs = jax.lax.scan(body, state, stacked)
            return jax.tree_util.tree_map(lambda a: a[-1], logs), state  # the last step's logs, as Keras
        return scan

    return _SCANS.get(_training_key(model), build, model)


def _shapes(batch):
    return tuple(np.shape(leaf) for leaf in jax.tree_util.tree_leaves(batch))


def _stack(*leaves):
    """Batches on a new leading axis: on the device if they are there already, else on the host."""
    return jax.numpy.stack(leaves) if isinstance(leaves[0], jax.Array) else np.stack(leaves)


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


def limit_threads(threads):
    """JAX takes its thread settings from XLA_FLAGS at import (`suite.backend.thread_env`)."""


def enable_determinism():
    """Nothing to do after import: XLA reads `--xla_gpu_deterministic_ops` from XLA_FLAGS (see `prepare`)."""
