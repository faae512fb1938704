"""The L2 norm of every parameter's gradient at every optimizer step, on the minibatch it trained on.

This is the measure of PyTorch studies that read `p.grad.norm()` after each `backward()`. The
norms are computed inside the compiled train step: the optimizer is wrapped so that its `apply`
writes them into a (steps per epoch x variables) buffer among its own variables, and the callback
reads the buffer once per epoch. So the recording works alike on TensorFlow, JAX (including
fused steps) and torch, adds a handful of reductions per step, and never changes the update.
"""

import time

import keras
import numpy as np
from keras import ops

from suite.probes.base import to_numpy


class _RecordingOptimizer:
    """Mixed in before a Keras optimizer class: `apply` also stores each gradient's L2 norm.

    `norm_window` (the buffer's length in steps) is part of the config, so compiled train steps
    shared by equal configs (`suite.backend.jax`) are shared only by equal buffers."""

    def __init__(self, *args, norm_window, **kwargs):
        super().__init__(*args, **kwargs)
        self.norm_window = int(norm_window)

    def get_config(self):
        return {**super().get_config(), "norm_window": self.norm_window}

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.gradient_norms = self.add_variable((self.norm_window, len(variables)), initializer="zeros",
                                                name="gradient_norms")

    def apply(self, grads, trainable_variables=None):
        if not self.built:
            self.build(trainable_variables)
        norms = ops.stack([ops.sqrt(ops.sum(ops.square(ops.cast(g, "float32")))) for g in grads])
        row = ops.cast(ops.mod(self.iterations.value, self.norm_window), "int32")
        self.gradient_norms.assign(ops.slice_update(self.gradient_norms.value, (row, 0), norms[None, :]))
        return super().apply(grads, trainable_variables)


def recording(optimizer, window):
    """A copy of `optimizer` (same class and config) that records gradient norms of `window` steps."""
    base = type(optimizer)
    cls = type(base.__name__, (_RecordingOptimizer, base), {})
    return cls(**optimizer.get_config(), norm_window=window)


class StepGradientNorms(keras.callbacks.Callback):
    """Records every optimizer step's per-variable gradient norm (training minibatch, as trained on).

    Use `wrap` on the optimizer passed to `fit`, and pass the callback to the same `fit`.
    `history` holds, per epoch (1-based `epoch`), per variable (`variables`, in
    `model.trainable_variables` order): `mean` and `var` (population variance) of that epoch's
    per-step norms, plus `steps[name]`, every `thin`-th step's norm of the variables in `keep`
    over the whole run, with `step` their 1-based step numbers. `seconds` is the reading cost
    (the in-step reductions are part of the train step; see benchmarks/probe_overhead.py).

    Args:
        steps_per_epoch: optimizer steps per epoch (`ceil(n / batch_size)`); the buffer's length.
        keep: names of variables whose per-step series are kept. Defaults to `()`.
        thin: keep every `thin`-th step of those series. Defaults to `1`.

    Example:
        >>> probe = StepGradientNorms(steps_per_epoch=469, keep=("hidden1/kernel",))
        >>> model.compile(optimizer=probe.wrap(keras.optimizers.Adam(1e-3)), loss=...)  # doctest: +SKIP
        >>> model.fit(x, y, batch_size=128, epochs=15, callbacks=[probe])  # doctest: +SKIP
        >>> probe.history["mean"][0]  # epoch 1: one mean norm per variable  # doctest: +SKIP
    """

    def __init__(self, steps_per_epoch, keep=(), thin=1):
        super().__init__()
        self.window, self.keep, self.thin = int(steps_per_epoch), tuple(keep), int(thin)
        self.history, self.seconds = {}, 0.0

    def wrap(self, optimizer):
        """The optimizer to train with: `optimizer`'s class and config, recording into this probe."""
        return recording(optimizer, self.window)

    def on_train_begin(self, logs=None):
        optimizer = self.model.optimizer
        if not isinstance(optimizer, _RecordingOptimizer):
            raise ValueError("StepGradientNorms needs the model compiled with its `wrap(optimizer)`")
        if (self.params or {}).get("steps") and self.params["steps"] > self.window:
            raise ValueError(f"an epoch has {self.params['steps']} steps but the probe holds {self.window}: "
                             "pass steps_per_epoch=ceil(samples / batch_size)")
        names = [v.path for v in self.model.trainable_variables]
        missing = [k for k in self.keep if k not in names]
        if missing:
            raise ValueError(f"keep names {missing} are not trainable variables of the model: {names}")
        self.history = {"epoch": [], "variables": names, "mean": [], "var": [], "step": [],
                        "steps": {k: [] for k in self.keep}}
        self.seconds, self._start = 0.0, int(to_numpy(optimizer.iterations))

    def on_epoch_end(self, epoch, logs=None):
        t0 = time.perf_counter()
        optimizer = self.model.optimizer  # reading the model syncs JAX's training state
        end = int(to_numpy(optimizer.iterations))
        steps = np.arange(self._start, end)
        norms = to_numpy(optimizer.gradient_norms)[steps % self.window]  # (steps, variables)
        h = self.history
        h["epoch"].append(epoch + 1)
        h["mean"].append(norms.mean(0).tolist())
        h["var"].append(norms.var(0).tolist())
        kept = (steps + 1) % self.thin == 0
        h["step"] += (steps[kept] + 1).tolist()
        for name in self.keep:
            h["steps"][name] += norms[kept, h["variables"].index(name)].tolist()
        self._start = end
        self.seconds += time.perf_counter() - t0
