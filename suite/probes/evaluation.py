"""Evaluation on fixed examples in inference mode: same weights, dropout off.

Keras's `fit` logs training loss and accuracy as running means over each epoch, taken while the
weights change and with dropout active. `EvaluationProbe` evaluates the model (`training=False`)
on fixed examples at the end of every epoch, on the same weights the validation numbers use, and
adds `<prefix><metric>` to that epoch's logs, so the numbers land in Keras's `History`.

The probe draws no random numbers itself. On the torch backend, though, `model.evaluate` (like
`model.predict`, which `suite.probes.CalibrationProbe` calls) advances torch's global random
state: each call starts a torch `DataLoader` iterator, which draws its base seed from it. That
state also sets training's shuffle order and the masks of Dropout layers built without a seed, so
from the second epoch on a run with the probe takes other random draws than one without it: the
same training procedure on another random stream. On JAX and TensorFlow the weights are identical
with and without the probe (tests/test_probes.py); on torch only when training draws nothing from
that state (no shuffling, no dropout: tests/test_task05.py).
"""

from suite.probes.base import Probe, to_numpy

PREFIX = "train_eval_"


class EvaluationProbe(Probe):
    """Evaluates the model on fixed examples in inference mode at the end of every epoch.

    Each compiled metric `m` (and the loss, regularization penalties included) from
    `model.evaluate` is added to the epoch's logs as `<prefix><m>`, so it lands in the
    training history, and to the probe's own `history` (with `epoch`). No point is recorded
    before training. Step points (`every_steps`) go to `history` only; the model's metric
    state is restored after each evaluation, so the running means `fit` logs are untouched.
    Two instances with different prefixes (e.g. on noisy and on true labels) log side by side.

    On the torch backend `evaluate` advances the global random state (see the module
    docstring): training then shuffles and drops out differently than without the probe.

    Args:
        x: inputs to evaluate on (e.g. the first 5,000 training images).
        y: their labels.
        prefix: prepended to each metric's name. Defaults to `"train_eval_"`.
        batch_size: evaluation batch size. Defaults to `1024`.
        metrics: names of the evaluated metrics to record (e.g. `["accuracy"]`); `None`
            records all of them. Defaults to `None`.
        epochs: 1-based epochs to record; `None` records every epoch. Defaults to `None`.
        every_steps: also record every N optimizer steps; `None` disables it. Defaults to `None`.
        max_steps: last step at which step points are recorded; `None` for no limit.
            Defaults to `None`.

    Example:
        >>> noisy = EvaluationProbe(x_train[:5000], y_noisy[:5000])
        >>> true = EvaluationProbe(x_train[:5000], y_train[:5000], prefix="true_eval_")
        >>> fit = model.fit(x_train, y_noisy, epochs=3, callbacks=[noisy, true])  # doctest: +SKIP
        >>> fit.history["true_eval_accuracy"]  # doctest: +SKIP
    """

    initial = False  # one point per epoch, as in Keras's History; an evaluation before fit costs a torch RNG draw

    def __init__(self, x, y, prefix=PREFIX, batch_size=1024, metrics=None, epochs=None, every_steps=None,
                 max_steps=None):
        super().__init__(epochs, every_steps, max_steps, prefix)
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
        self.x, self.y, self.batch_size = x, y, batch_size
        self.metrics = None if metrics is None else list(metrics)

    def _reset(self):
        self.history = {"epoch": []}

    def _record(self, epoch, step):
        model = self.model
        running = [to_numpy(v) for v in model.metrics_variables]  # evaluate resets the metrics fit accumulates
        out = model.evaluate(self.x, self.y, batch_size=self.batch_size, verbose=0, return_dict=True)
        for variable, value in zip(model.metrics_variables, running):
            variable.assign(value)
        missing = sorted(set(self.metrics or ()) - set(out))
        if missing:
            raise ValueError(f"EvaluationProbe: no metric {missing} among the evaluated {sorted(out)}: "
                             "pass `metrics=` from those, or compile the model with them")
        return {name: float(value) for name, value in out.items() if self.metrics is None or name in self.metrics}
