"""Per-variable gradient statistics on a fixed probe set, at chosen epochs and optionally every N steps."""

import keras
import numpy as np

from suite import backend
from suite.probes.base import Probe
from suite.probes.linalg import gram


def gradient_stats(grads):
    """Norm statistics of K minibatch gradients of each variable.

    Args:
        grads: one array per variable, shaped (K, *variable shape): its gradient on each minibatch.

    Returns:
        `dict(norm, batch_norm_mean, batch_norm_var, noise)`, each a list over variables:
        the L2 norm of the mean gradient, the mean and (population) variance over batches of
        the per-batch gradient norm, and the mean over batches of `||g_b - g_mean||^2`, all from
        the K x K matrix of products between the batches' gradients (float64).
    """
    out = {"norm": [], "batch_norm_mean": [], "batch_norm_var": [], "noise": []}
    for per_batch in grads:
        k = len(per_batch)
        products = gram(np.reshape(per_batch, (k, -1)).T)  # (K, K): g_a . g_b
        squares = np.diag(products)
        norms = np.sqrt(squares)
        mean_square = products.sum() / k**2  # ||g_mean||^2
        out["norm"].append(float(np.sqrt(mean_square)))
        out["batch_norm_mean"].append(float(norms.mean()))
        out["batch_norm_var"].append(float(norms.var()))
        out["noise"].append(float(max(squares.mean() - mean_square, 0.0)))  # mean ||g_b - g_mean||^2
    return out


class GradientProbe(Probe):
    """Records per-variable gradient norms and minibatch-gradient noise on a fixed probe set.

    The probe set is cut into `batches` minibatches of `batch_size`; at each recorded point the
    gradient of `loss` on each minibatch is taken with `suite.backend.batch_grads` (one compiled
    call on TensorFlow and JAX) in inference mode (no dropout, no regularization penalty), so
    the numbers are the same on every backend and training is not touched. Points are taken
    as for every `suite.probes.base.Probe`. `history` holds, per point, `epoch` (fractional for
    step points), `step`, and per variable `norm`, `batch_norm_mean`, `batch_norm_var`,
    `noise`, plus `loss`.

    Args:
        x: probe inputs; at least `batch_size` samples.
        y: probe targets.
        loss: a Keras loss taking `(y, model output)`. Defaults to
            `keras.losses.SparseCategoricalCrossentropy()`.
        batch_size: minibatch size. Defaults to `32`.
        batches: number of minibatches K (fewer if `x` is smaller). Defaults to `8`.
        epochs: 1-based epochs to record; `None` records every epoch. Defaults to `None`.
        every_steps: also record every N optimizer steps; `None` disables it. Defaults to `None`.
        max_steps: last step at which step points are recorded; `None` for no limit.
            Defaults to `None`.

    Example:
        >>> probe = GradientProbe(x_val[:256], y_val[:256])
        >>> model.fit(x, y, epochs=3, callbacks=[probe])  # doctest: +SKIP
        >>> probe.history["norm"][-1]  # one value per trainable variable  # doctest: +SKIP
    """

    def __init__(self, x, y, loss=None, batch_size=32, batches=8, epochs=None, every_steps=None, max_steps=None):
        super().__init__(epochs, every_steps, max_steps)
        n = min(int(batches), len(x) // int(batch_size))
        if n < 1:
            raise ValueError(f"GradientProbe needs at least batch_size={batch_size} probe samples, got {len(x)}: "
                             "pass more samples or a smaller `batch_size`")
        self.x = np.asarray(x[:n * batch_size]).reshape(n, batch_size, *np.shape(x)[1:])
        self.y = np.asarray(y[:n * batch_size]).reshape(n, batch_size, *np.shape(y)[1:])
        self.loss = loss if loss is not None else keras.losses.SparseCategoricalCrossentropy()
        self.batch_size, self.batches = int(batch_size), n

    def _reset(self):
        self.history = {"epoch": [], "step": [], "variables": [v.path for v in self.model.trainable_variables],
                        "batches": self.batches, "batch_size": self.batch_size,
                        "norm": [], "batch_norm_mean": [], "batch_norm_var": [], "noise": [], "loss": []}

    def _record(self, epoch, step):
        losses, grads = backend.batch_grads(self.model, self.x, self.y, self.loss, training=False)
        self.history["step"].append(int(step))
        for key, values in gradient_stats(grads).items():
            self.history[key].append(values)
        self.history["loss"].append(float(np.mean(losses)))
