"""The train-validation gap measured in inference mode: same weights, dropout off.

Keras's `fit` logs training loss and accuracy as running means over each epoch, taken while the
weights change and with dropout active. "Train minus validation" from those logs mixes three
things: the lag of a running mean, dropout noise, and generalization.
`suite.probes.EvaluationProbe` removes the first two: at the end of every epoch it evaluates the
model (`training=False`) on fixed training images, on the same weights the validation numbers
use, and adds `train_eval_loss` and `train_eval_accuracy` to that epoch's logs (so they land in
the history). `add_gaps` then turns a history into gap curves.
"""

import numpy as np

from suite.probes.evaluation import PREFIX


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
