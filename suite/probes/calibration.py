"""Expected calibration error on held-out data during training (the math: `suite.measures.calibration`)."""

from suite.measures.calibration import ECE_BINS, ece
from suite.probes.base import Probe


class CalibrationProbe(Probe):
    """Adds the expected calibration error on held-out data to each epoch's logs.

    The value appears in the training history as `<prefix>ece` (e.g. `history["val_ece"]`)
    and in the probe's own `history` (with `epoch`); no point is recorded before training. It
    only reads predictions; training is unchanged (on torch, `predict` advances the global
    random state, see `suite.probes.evaluation`).

    Args:
        x: inputs to evaluate (e.g. the validation split).
        y: their integer labels.
        prefix: prepended to `"ece"` to name the logged value. Defaults to `"val_"`.
        bins: number of equal-width confidence bins. Defaults to `15`.
        batch_size: prediction batch size. Defaults to `1024`.
        epochs: 1-based epochs to record; `None` records every epoch. Defaults to `None`.
        every_steps: also record every N optimizer steps; `None` disables it. Defaults to `None`.
        max_steps: last step at which step points are recorded; `None` for no limit.
            Defaults to `None`.

    Example:
        >>> probe = CalibrationProbe(data.x_val, data.y_val)  # doctest: +SKIP
        >>> model.fit(x, y, validation_data=..., callbacks=[probe])  # doctest: +SKIP
        >>> model.history.history["val_ece"]  # doctest: +SKIP
    """

    initial = False  # one point per epoch, as in Keras's History

    def __init__(self, x, y, prefix="val_", bins=ECE_BINS, batch_size=1024, epochs=None, every_steps=None,
                 max_steps=None):
        super().__init__(epochs, every_steps, max_steps, prefix)
        self.x, self.y, self.bins, self.batch_size = x, y, bins, batch_size

    def _reset(self):
        self.history = {"epoch": []}

    def _record(self, epoch, step):
        probs = self.model.predict(self.x, batch_size=self.batch_size, verbose=0)
        return {"ece": ece(probs, self.y, self.bins)}
