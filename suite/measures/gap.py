"""The train-validation gap measured in inference mode: same weights, dropout off.

Keras's `fit` logs training loss and accuracy as running means over each epoch, taken while the
weights change and with dropout active. "Train minus validation" from those logs mixes three
things: the lag of a running mean, dropout noise, and generalization. `TrainingSetEvaluation`
removes the first two: at the end of every epoch it evaluates the model (`training=False`) on a
fixed subset of the training images, on the same weights the validation numbers use, and adds
`train_eval_loss` and `train_eval_accuracy` to that epoch's logs (so they land in the history).
`add_gaps` then turns a history into gap curves.

The probe draws no random numbers itself. On the torch backend, though, `evaluate` advances the
global random state, so a model with dropout gets other masks after the first epoch than it would
without the probe: the same training procedure on another random stream (without dropout the
weights are identical, which tests/test_task05.py checks).
"""

import keras
import numpy as np

PREFIX = "train_eval_"


class TrainingSetEvaluation(keras.callbacks.Callback):
    """Evaluates the model on fixed training examples at the end of every epoch, dropout off.

    Each compiled metric `m` (and the loss) is added to the epoch's logs as `train_eval_<m>`.
    The callback must run before `keras.callbacks.History` records the logs, which is the case for
    every callback passed to `fit` (Keras appends its History last).

    Args:
        x: training inputs to evaluate on (e.g. the first 5,000 training images).
        y: their labels.
        batch_size: evaluation batch size. Defaults to `1024`.

    Example:
        >>> probe = TrainingSetEvaluation(data.x_train[:5000], data.y_train[:5000])  # doctest: +SKIP
        >>> model.fit(x, y, validation_data=(xv, yv), callbacks=[probe])  # doctest: +SKIP
        >>> model.history.history["train_eval_loss"]  # doctest: +SKIP
    """

    def __init__(self, x, y, batch_size=1024):
        super().__init__()
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and {len(y)}")
        self.x, self.y, self.batch_size = x, y, batch_size

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        out = self.model.evaluate(self.x, self.y, batch_size=self.batch_size, verbose=0, return_dict=True)
        for key, value in out.items():
            logs[PREFIX + key] = float(value)


def add_gaps(history):
    """Add `loss_gap` (validation minus training loss) and `accuracy_gap` (training minus validation
    accuracy) to `history`, per epoch, from the `train_eval_*` curves; returns `history`.

    Both gaps are positive when the model does better on the training data than on held-out data.
    """
    for gap, train, val, sign in (("loss_gap", "loss", "val_loss", -1.0), ("accuracy_gap", "accuracy",
                                                                           "val_accuracy", 1.0)):
        t = np.asarray(history[PREFIX + train], dtype=float)
        v = np.asarray(history[val], dtype=float)
        history[gap] = [float(x) for x in sign * (t - v)]
    return history
