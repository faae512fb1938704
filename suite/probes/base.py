"""What every probe shares: when it records (epochs, every N steps), its names, and its cost."""

import time

import keras
import numpy as np


def to_numpy(x):
    """A backend tensor (or variable) as a NumPy array."""
    return np.asarray(keras.ops.convert_to_numpy(x))


def global_step(model):
    """Optimizer steps taken so far (0 before the first step or without an optimizer)."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(optimizer, "built", False):
        return 0
    return int(to_numpy(optimizer.iterations))


class Probe(keras.callbacks.Callback):
    """Base of every measuring callback: records points into `history` at chosen times.

    A point is recorded before training (epoch 0, unless the subclass sets `initial = False`),
    at the end of each selected epoch and, with `every_steps`, every that many optimizer steps
    up to `max_steps` (with `steps_per_execution > 1`, at the first step boundary Keras reports
    after each multiple; a step point is labelled with a fractional epoch). An epoch end that
    falls on an already recorded step adds no second point. `on_train_begin` resets the
    history and the timer, so an instance can be reused; `seconds` is the probe's own cost.

    Subclasses implement `_reset()`, which sets a fresh `self.history` holding an `"epoch"`
    list (the base appends each point's epoch to it), and `_record(epoch, step)`. They read the
    model through `self.model` (on JAX this syncs the training state into the model).
    `_record` returns either `None`, having written its point into `history` itself, or a dict
    of scalars `{name: value}`: the base then appends each to `history[prefix + name]` and, at
    an epoch end, also writes it into that epoch's logs as `prefix + name`, so it lands in
    Keras's `History` (every callback passed to `fit` runs before Keras's own `History`).

    Args:
        epochs: 1-based epochs to record at their end; `None` records every epoch.
            Defaults to `None`.
        every_steps: also record every N optimizer steps; `None` disables it.
            Defaults to `None`.
        max_steps: last step at which step points are recorded; `None` for no limit.
            Defaults to `None`.
        prefix: prepended to the names of the scalars a subclass returns, so that two
            instances (e.g. on noisy and on true labels) log side by side. Defaults to `""`.

    Example:
        >>> class MeanOutput(Probe):
        ...     def __init__(self, x, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x = x
        ...     def _reset(self):
        ...         self.history = {"epoch": []}
        ...     def _record(self, epoch, step):
        ...         return {"mean_output": float(np.mean(self.model.predict(self.x, verbose=0)))}
        >>> probe = MeanOutput(x_val[:256], every_steps=100, prefix="val_")
        >>> model.fit(x, y, epochs=3, callbacks=[probe])  # doctest: +SKIP
        >>> probe.history["val_mean_output"]  # doctest: +SKIP
    """

    initial = True  # record a point before training

    def __init__(self, epochs=None, every_steps=None, max_steps=None, prefix=""):
        super().__init__()
        if every_steps is not None and (int(every_steps) != every_steps or every_steps < 1):
            raise ValueError(f"every_steps must be a positive integer or None, got {every_steps!r}")
        self.epochs = None if epochs is None else frozenset(int(e) for e in epochs)
        self.every_steps = None if every_steps is None else int(every_steps)
        self.max_steps, self.prefix = max_steps, str(prefix)
        self.history = {}
        self.seconds = 0.0
        if every_steps is not None:
            # Only then a batch hook: Keras dispatches batch ends asynchronously unless a callback has one.
            self.on_train_batch_end = self._on_step

    def _reset(self):
        raise NotImplementedError

    def _record(self, epoch, step):
        raise NotImplementedError

    def _timed_record(self, epoch, step):
        if step > 0 and step == self._last_step:
            return self._last_values  # the same state: an epoch end right after a step point
        t0 = time.perf_counter()
        values = self._record(epoch, step)
        self.history["epoch"].append(float(epoch))
        for name, value in (values or {}).items():
            self.history.setdefault(self.prefix + name, []).append(value)
        self._last_step, self._last_values = step, values
        self.seconds += time.perf_counter() - t0
        return values

    def on_train_begin(self, logs=None):
        t0 = time.perf_counter()
        self.seconds = 0.0
        self._reset()
        self._last_step, self._last_values = None, None
        self._epoch, self._epoch_start = 0, 0
        self._start_step = global_step(self.model)  # nonzero when fit continues an earlier fit
        self._steps_per_epoch = self.params.get("steps") if self.params else None
        self.seconds += time.perf_counter() - t0
        if self.initial:
            self._timed_record(0, self._start_step)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self.every_steps is not None:
            self._epoch_start = global_step(self.model)

    def on_epoch_end(self, epoch, logs=None):
        if self.epochs is None or epoch + 1 in self.epochs:
            values = self._timed_record(epoch + 1, global_step(self.model))
            if logs is not None and values:
                logs.update({self.prefix + name: value for name, value in values.items()})

    def _on_step(self, batch, logs=None):
        step = self._epoch_start + batch + 1
        if self.max_steps is not None and step > self.max_steps:
            return
        last = self._start_step if self._last_step is None else self._last_step
        if step // self.every_steps > last // self.every_steps:
            per_epoch = self._steps_per_epoch or (batch + 1)
            self.model  # reading it syncs JAX's mid-epoch training state into the model (and submodels on it)
            self._timed_record(self._epoch + (batch + 1) / per_epoch, step)


def layer_model(model, layer_names):
    """A `keras.Model` from the model's inputs to the outputs of the named layers (sharing weights)."""
    outputs = [model.get_layer(name).output for name in layer_names]
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return keras.Model(inputs, outputs)


def outputs_on(submodel, x, batch_size=1024):
    """The submodel's outputs on `x` in inference mode, as a list of NumPy arrays (one per output)."""
    chunks = []
    for i in range(0, len(x), batch_size):
        out = submodel(x[i:i + batch_size], training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        chunks.append([to_numpy(o) for o in out])
    return [np.concatenate(parts) for parts in zip(*chunks)]
