"""One clear way to train and evaluate a classifier, with the suite's per-backend speed settings.

Every MNIST task trains through `fit_classifier`; it records per-epoch history, wall time per
epoch, divergence (NaN/inf loss stops the arm, which is then recorded as diverged) and the
final test metrics.
"""

import math
import time

import keras
import numpy as np

from suite import backend
from suite.study.progress import ProgressCallback

# Steps run per call of the train function: TensorFlow loops over them inside one graph call;
# Keras's JAX trainer dispatches each step from Python, so on a CPU the suite scans a dense
# model's chunk in one call instead (`suite.backend.fuse_train_steps`; see
# benchmarks/RESULTS.md). Keras on torch does not support it.
STEPS_PER_EXECUTION = {"tensorflow": 64, "jax": 64, "torch": 1}
EVAL_BATCH = 1024


def compile_fast(model, optimizer, loss="sparse_categorical_crossentropy", metrics=("accuracy",)):
    """`model.compile` with the settings that make the current backend fast (steps fused on JAX's CPU)."""
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics), jit_compile="auto",
                  steps_per_execution=STEPS_PER_EXECUTION[keras.backend.backend()])
    backend.fuse_train_steps(model)


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of every epoch (training plus validation) in `self.seconds`."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.t0)


class DivergenceGuard(keras.callbacks.Callback):
    """Stops training at the end of the first epoch whose loss is NaN or infinite.

    `diverged_epoch` is that epoch (1-based), or `None` while training stays finite.
    """

    def on_train_begin(self, logs=None):
        self.diverged_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.diverged_epoch = epoch + 1
            self.model.stop_training = True


def epochs_to_reach(curve, threshold):
    """First epoch (1-based) at which `curve` reaches `threshold`, or NaN if it never does."""
    hits = np.flatnonzero(np.asarray(curve, dtype=float) >= threshold)
    return float(hits[0] + 1) if len(hits) else math.nan


def fit_classifier(model, data, optimizer, epochs, batch_size, callbacks=(), progress=None, train_data=None):
    """Compile, train on `data.x_train`, validate each epoch, and evaluate on the test set.

    Args:
        model: a `keras.Model` with softmax outputs.
        data: a split with `x_train, y_train, x_val, y_val, x_test, y_test`.
        optimizer: a `keras.optimizers.Optimizer`.
        epochs: maximum epochs (callbacks such as EarlyStopping may stop sooner).
        batch_size: training minibatch size.
        callbacks: extra callbacks (probes, early stopping), run before progress reporting.
        progress: a `suite.study.progress.Progress`, or `None` for silence.
        train_data: a `keras.utils.PyDataset` of training batches (e.g. augmented on the fly,
            `suite.data.augment.AugmentedBatches`) to train on instead of `data.x_train,
            data.y_train`; it sets its own batch size. Defaults to `None`.

    Returns:
        `dict(metrics=..., history=..., status=...)`: `history` has one value per epoch for
        `loss, accuracy, val_loss, val_accuracy, epoch_seconds`; `metrics` holds the test
        loss and accuracy, the best validation loss and its epoch, the final values,
        epochs run and the median seconds per epoch; `status` is `"ok"` or `"diverged"`.
    """
    compile_fast(model, optimizer)
    timer, guard = EpochTimer(), DivergenceGuard()
    extra = [ProgressCallback(progress)] if progress else []
    if train_data is None:
        x, y, batch = data.x_train, data.y_train, batch_size
    else:
        x, y, batch = train_data, None, None  # a PyDataset yields (x, y) batches of its own size
    fit = model.fit(x, y, batch_size=batch, epochs=epochs,
                    validation_data=(data.x_val, data.y_val), validation_batch_size=EVAL_BATCH,
                    callbacks=[timer, guard, *callbacks, *extra], verbose=0)
    history = {k: [float(v) for v in vs] for k, vs in fit.history.items()}
    history["epoch_seconds"] = timer.seconds
    val_loss = np.array(history["val_loss"], dtype=float)
    finite = np.isfinite(val_loss)
    metrics = {
        "epochs_run": len(val_loss),
        "best_epoch": int(np.nanargmin(np.where(finite, val_loss, np.nan)) + 1) if finite.any() else None,
        "best_val_loss": float(np.nanmin(val_loss)) if finite.any() else math.nan,
        "final_val_loss": history["val_loss"][-1],
        "final_val_accuracy": history["val_accuracy"][-1],
        "final_train_accuracy": history["accuracy"][-1],
        "seconds_per_epoch": float(np.median(timer.seconds)),
    }
    if guard.diverged_epoch is None:
        test = model.evaluate(data.x_test, data.y_test, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
        metrics.update(test_loss=float(test["loss"]), test_accuracy=float(test["accuracy"]))
    return {"metrics": metrics, "history": history,
            "status": "ok" if guard.diverged_epoch is None else "diverged",
            "diverged_epoch": guard.diverged_epoch}
