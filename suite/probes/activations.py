"""Activation statistics per hidden layer: dead units, mean and spread, saturation."""

import keras
import numpy as np

from suite.probes.base import Probe, layer_model, outputs_on

# Activations with a bounded range: the largest |a| they can reach, for the saturation count.
BOUNDED = {"tanh": 1.0, "sigmoid": 1.0, "hard_sigmoid": 1.0, "softsign": 1.0}


def activation_stats(a, dead_threshold=0.0, bound=None):
    """Statistics of one layer's activations `a` (samples first; other axes are units).

    Returns `dict(dead_fraction, mean, std, saturated_fraction)`: the fraction of units whose
    activation is `<= dead_threshold` on every sample, the mean and standard deviation of all
    activations, and the fraction of activations with `|a| > 0.99 * bound` (0 without a bound).
    """
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    return {"dead_fraction": float((a <= dead_threshold).all(axis=0).mean()),
            "mean": float(a.mean()), "std": float(a.std()),
            "saturated_fraction": float((np.abs(a) > 0.99 * bound).mean()) if bound else 0.0}


def default_layers(model):
    """Every Dense layer except the output one (named `logits`, else the last Dense layer)."""
    dense = [l.name for l in model.layers if isinstance(l, keras.layers.Dense)]
    return [n for n in dense if n != "logits"] if "logits" in dense else dense[:-1]


class ActivationProbe(Probe):
    """Records the dead-unit fraction and activation statistics of hidden layers on a fixed probe set.

    Activations are the layers' outputs (after their activation function) on `x` in inference
    mode. `history` holds, per point, `epoch`, and per layer `dead_fraction` (units at or below
    `dead_threshold` on every sample), `mean`, `std` and `saturated_fraction` (activations above
    99% of the bound of a tanh/sigmoid-like activation; 0 for unbounded ones).

    Args:
        x: probe inputs.
        layers: names of the layers to watch; `None` watches every Dense layer except the last
            (`"logits"`). Defaults to `None`.
        epochs: 1-based epochs to record; `None` records every epoch. Defaults to `None`.
        dead_threshold: an activation at or below this counts as inactive. Defaults to `0.0`.
        every_steps: also record every N optimizer steps; `None` disables it. Defaults to `None`.
        max_steps: last step at which step points are recorded; `None` for no limit.
            Defaults to `None`.

    Example:
        >>> probe = ActivationProbe(x_val[:512])
        >>> model.fit(x, y, epochs=5, callbacks=[probe])  # doctest: +SKIP
        >>> probe.history["dead_fraction"][-1]  # one value per layer  # doctest: +SKIP
    """

    def __init__(self, x, layers=None, epochs=None, dead_threshold=0.0, every_steps=None, max_steps=None):
        super().__init__(epochs, every_steps, max_steps)
        self.x, self.layers, self.dead_threshold = np.asarray(x), layers, float(dead_threshold)

    def _reset(self):
        names = list(self.layers) if self.layers is not None else default_layers(self.model)
        if not names:
            raise ValueError("ActivationProbe found no hidden Dense layer: pass `layers=[...]` by name")
        self._names = names
        self._bounds = [BOUNDED.get(getattr(getattr(self.model.get_layer(n), "activation", None), "__name__", ""))
                        for n in names]
        self._sub = layer_model(self.model, names)
        self.history = {"epoch": [], "layers": names, "dead_fraction": [], "mean": [], "std": [],
                        "saturated_fraction": []}

    def _record(self, epoch, step):
        outs = outputs_on(self._sub, self.x)
        stats = [activation_stats(a, self.dead_threshold, b) for a, b in zip(outs, self._bounds)]
        for key in ("dead_fraction", "mean", "std", "saturated_fraction"):
            self.history[key].append([s[key] for s in stats])
