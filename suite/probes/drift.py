"""Representation drift: how a hidden layer's view of a fixed probe set moves during training."""

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


class DriftProbe(Probe):
    """Records how the representation of a fixed probe set at one layer drifts over training.

    At each point the layer's output on `x` (inference mode) is compared with the previous
    point (`cka_prev`) and with the epoch-0 point (`cka_first`) by linear CKA, and with the
    epoch-0 point by the mean per-sample cosine similarity (`cos_first`). The first point has
    1.0 in every field. Only the first and the previous representations are kept in memory,
    with the norms of their Gram matrices, so each point costs one forward pass and three
    feature-space products.

    Args:
        x: probe inputs (a few hundred samples is plenty).
        layer: name of the layer whose output is the representation. Defaults to `"hidden1"`.
        epochs: 1-based epochs to record; `None` records every epoch. Defaults to `None`.

    Example:
        >>> probe = DriftProbe(x_val[:512], layer="hidden1")
        >>> model.fit(x, y, epochs=5, callbacks=[probe])  # doctest: +SKIP
        >>> probe.history["cka_first"]  # doctest: +SKIP
    """

    def __init__(self, x, layer="hidden1", epochs=None):
        super().__init__(epochs)
        self.x, self.layer = np.asarray(x), layer

    def _reset(self):
        self.history = {"epoch": [], "layer": self.layer, "cka_prev": [], "cka_first": [], "cos_first": []}
        self._sub = layer_model(self.model, [self.layer])
        self._first_raw = self._first = self._prev = None  # raw first; (centered, Gram norm) pairs

    def _record(self, epoch, step):
        raw = outputs_on(self._sub, self.x)[0].reshape(len(self.x), -1)
        rep = centered(raw)
        current = (rep, cross_norm(rep, rep))
        h = self.history
        h["epoch"].append(float(epoch))
        if self._first is None:
            self._first_raw, self._first = raw, current
            for key in ("cka_prev", "cka_first", "cos_first"):
                h[key].append(1.0)
        else:
            cka_prev = cka_of_centered(self._prev[0], rep, self._prev[1], current[1])
            h["cka_prev"].append(cka_prev)
            h["cka_first"].append(cka_prev if self._prev is self._first
                                  else cka_of_centered(self._first[0], rep, self._first[1], current[1]))
            h["cos_first"].append(mean_cosine(self._first_raw, raw))
        self._prev = current
