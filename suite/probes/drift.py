"""Representation drift: how hidden layers' views of a fixed probe set move during training."""

import numpy as np

from suite.probes.base import Probe, layer_model, outputs_on
from suite.probes.cka import centered, cka_of_centered, cross_norm


def mean_cosine(a, b):
    """Mean over samples of the cosine similarity between rows of `a` and `b` (flattened per sample).

    A pair where both rows are zero counts as 1 (unchanged), where one is zero as 0.
    """
    a = np.asarray(a, dtype=np.float64).reshape(len(a), -1)
    b = np.asarray(b, dtype=np.float64).reshape(len(b), -1)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    dot = (a * b).sum(axis=1)
    cos = np.where((na > 0) & (nb > 0), dot / np.maximum(na * nb, 1e-300), np.where((na == 0) & (nb == 0), 1.0, 0.0))
    return float(cos.mean())


def _drift(first_raw, first, prev, raw, current):
    cka_prev = cka_of_centered(prev[0], current[0], prev[1], current[1])
    return {"cka_prev": cka_prev,
            "cka_first": cka_prev if prev is first else cka_of_centered(first[0], current[0], first[1], current[1]),
            "cos_first": mean_cosine(first_raw, raw)}


class DriftProbe(Probe):
    """Records how the representation of a fixed probe set at one or more layers drifts over training.

    At each point each layer's output on `x` (inference mode) is compared with the previous
    point (`cka_prev`) and with the epoch-0 point (`cka_first`) by linear CKA, and with the
    epoch-0 point by the mean per-sample cosine similarity (`cos_first`). The first point has
    1.0 in every field. Only the first and the previous representations are kept in memory,
    with the norms of their Gram matrices, so each point costs one forward pass and three
    feature-space products per layer. Points are taken as for every `suite.probes.base.Probe`.

    With one layer name, `history` holds `layer` (the name) and, per point, `epoch` and one
    number per field; with a list of names it holds `layers` (the names) and, per point,
    `epoch` and per field a list with one number per layer (read one with
    `suite.report.probeplots.column(history, "cka_first", name, "layers")`).

    Args:
        x: probe inputs (a few hundred samples is plenty).
        layers: name of the layer whose output is the representation, or a list of names.
            Defaults to `"hidden1"`.
        epochs: 1-based epochs to record; `None` records every epoch. Defaults to `None`.
        every_steps: also record every N optimizer steps; `None` disables it. Defaults to `None`.
        max_steps: last step at which step points are recorded; `None` for no limit.
            Defaults to `None`.

    Example:
        >>> probe = DriftProbe(x_val[:512], layers=["hidden1", "hidden2"])
        >>> model.fit(x, y, epochs=5, callbacks=[probe])  # doctest: +SKIP
        >>> probe.history["cka_first"][-1]  # one value per layer  # doctest: +SKIP
    """

    FIELDS = ("cka_prev", "cka_first", "cos_first")

    def __init__(self, x, layers="hidden1", epochs=None, every_steps=None, max_steps=None):
        super().__init__(epochs, every_steps, max_steps)
        self.x, self.layers = np.asarray(x), layers
        self._single = isinstance(layers, str)  # one name: today's record, one number per field
        self._names = [layers] if self._single else list(layers)
        if not self._names:
            raise ValueError("DriftProbe needs at least one layer: pass `layers=\"hidden1\"` or a list of names")

    def _reset(self):
        self.history = {"epoch": [], **({"layer": self.layers} if self._single else {"layers": self._names}),
                        **{key: [] for key in self.FIELDS}}
        self._sub = layer_model(self.model, self._names)
        self._first_raw = self._first = self._prev = None  # per layer: raw first; (centered, Gram norm) pairs

    def _record(self, epoch, step):
        raws = [out.reshape(len(self.x), -1) for out in outputs_on(self._sub, self.x)]
        current = [(rep, cross_norm(rep, rep)) for rep in map(centered, raws)]
        if self._first is None:
            self._first_raw, self._first = raws, current
            points = [dict.fromkeys(self.FIELDS, 1.0) for _ in raws]
        else:
            points = [_drift(*layer) for layer in zip(self._first_raw, self._first, self._prev, raws, current)]
        self._prev = current
        for key in self.FIELDS:
            values = [p[key] for p in points]
            self.history[key].append(values[0] if self._single else values)
