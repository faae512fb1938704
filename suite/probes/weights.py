"""Weight statistics per variable: norms, histograms on fixed bins, singular values, effective rank."""

import numpy as np

from suite.probes.base import Probe, to_numpy
from suite.probes.linalg import gram

DEFAULT_BINS = np.linspace(-0.5, 0.5, 101)


def histogram(values, bins):
    """Counts of `values` on the fixed `bins`; values outside the range are counted in the edge bins."""
    bins = np.asarray(bins, dtype=np.float64)
    v = np.clip(np.asarray(values, dtype=np.float64).ravel(), bins[0], bins[-1])
    return np.histogram(v, bins)[0]


def as_matrix(kernel):
    """A kernel as a 2-D matrix (inputs x outputs): convolution kernels fold all input axes together."""
    k = np.asarray(kernel, dtype=np.float64)
    return k.reshape(-1, k.shape[-1])


def singular_values(matrix):
    """Descending singular values of a 2-D matrix, from the eigenvalues of its smaller Gram matrix.

    Much cheaper than an SVD for the tall kernels of MLPs (784x128: about a millisecond instead
    of 10-200 ms on a busy 2-core CPU); relative accuracy ~1e-15 for the large values, and
    absolute error about eps * s_max^2 / s for a small value s, far below what the probes report.
    """
    m = np.asarray(matrix, dtype=np.float64)
    m = m if m.shape[0] >= m.shape[1] else m.T
    return np.sqrt(np.clip(np.linalg.eigvalsh(gram(m)), 0.0, None))[::-1]


def effective_rank(singular_values):
    """exp(entropy of the normalized singular values) (Roy and Vetterli, 2007); 0 for a zero matrix."""
    s = np.asarray(singular_values, dtype=np.float64)
    total = s.sum()
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-(p * np.log(p)).sum()))


class WeightProbe(Probe):
    """Records per-variable weight norms, histograms and per-kernel singular values.

    Weights are read through `self.model` (on JAX this syncs the training state into the
    model first). Variables are the model's trainable variables; kernels are those with two
    or more axes. Points are taken as for every `suite.probes.base.Probe`. `history` holds,
    per point, `epoch` (fractional for step points), and per variable `norm` (Frobenius),
    `std`, `mean_abs` and `hist` (counts on `bins`, out-of-range values in the edge bins), and
    per kernel `singular_values` (descending) and `effective_rank`.

    Args:
        epochs: 1-based epochs to record; `None` records every epoch. Defaults to `None`.
        bins: histogram bin edges. Defaults to `numpy.linspace(-0.5, 0.5, 101)`.
        every_steps: also record every N optimizer steps; `None` disables it. Defaults to `None`.
        max_steps: last step at which step points are recorded; `None` for no limit.
            Defaults to `None`.

    Example:
        >>> probe = WeightProbe(epochs=[1, 10])
        >>> model.fit(x, y, epochs=10, callbacks=[probe])  # doctest: +SKIP
        >>> probe.history["effective_rank"][-1]  # doctest: +SKIP
    """

    def __init__(self, epochs=None, bins=DEFAULT_BINS, every_steps=None, max_steps=None):
        super().__init__(epochs, every_steps, max_steps)
        self.bins = np.asarray(bins, dtype=np.float64)

    def _reset(self):
        variables = self.model.trainable_variables
        self.history = {"epoch": [], "variables": [v.path for v in variables],
                        "kernels": [v.path for v in variables if len(v.shape) >= 2],
                        "norm": [], "std": [], "mean_abs": [], "hist": [], "bins": self.bins.tolist(),
                        "singular_values": [], "effective_rank": []}

    def _record(self, epoch, step):
        values = [to_numpy(v).astype(np.float64) for v in self.model.trainable_variables]
        h = self.history
        h["norm"].append([float(np.linalg.norm(v.ravel())) for v in values])
        h["std"].append([float(v.std()) for v in values])
        h["mean_abs"].append([float(np.abs(v).mean()) for v in values])
        h["hist"].append([histogram(v, self.bins).tolist() for v in values])
        spectra = [singular_values(as_matrix(v)) for v in values if v.ndim >= 2]
        h["singular_values"].append([s.tolist() for s in spectra])
        h["effective_rank"].append([effective_rank(s) for s in spectra])
