"""What every probe shares: which epochs it records, its epoch-0 point, and the time it costs."""

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
    """Base of the probes: records a point before training and at the end of selected epochs.

    Subclasses implement `_reset()` (fresh `self.history`) and `_record(epoch, step)`, which
    read the model through `self.model` (on JAX this syncs the training state into the model).

    Args:
        epochs: 1-based epochs to record at their end; `None` records every epoch.
    """

    def __init__(self, epochs=None):
        super().__init__()
        self.epochs = None if epochs is None else frozenset(int(e) for e in epochs)
        self.history = {}
        self.seconds = 0.0

    def _reset(self):
        raise NotImplementedError

    def _record(self, epoch, step):
        raise NotImplementedError

    def _timed_record(self, epoch, step):
        t0 = time.perf_counter()
        self._record(epoch, step)
        self.seconds += time.perf_counter() - t0

    def on_train_begin(self, logs=None):
        t0 = time.perf_counter()
        self.seconds = 0.0
        self._reset()
        self.seconds += time.perf_counter() - t0
        self._timed_record(0, global_step(self.model))

    def on_epoch_end(self, epoch, logs=None):
        if self.epochs is None or epoch + 1 in self.epochs:
            self._timed_record(epoch + 1, global_step(self.model))


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
