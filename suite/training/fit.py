"""One clear way to train and evaluate a model, with the suite's per-backend speed settings.

Every task trains through `fit` (any Keras loss and metrics, any number of named evaluation
sets) or its classifier form `fit_classifier`; they record per-epoch history, wall time per
epoch, divergence (NaN/inf loss stops the arm, which is then recorded as diverged) and the
final evaluation metrics.
"""

import math
import time

import keras
import numpy as np

from suite import backend
from suite.study.progress import ProgressCallback

EVAL_BATCH = 1024
# How `monitor_mode="auto"` reads a monitored name (without its `val_` prefix), by its ending.
_LOWER_IS_BETTER = ("loss", "error", "crossentropy", "mae", "mse", "mape", "msle")
_HIGHER_IS_BETTER = ("accuracy", "auc", "precision", "recall")


def compile_fast(model, optimizer, loss="sparse_categorical_crossentropy", metrics=("accuracy",)):
    """`model.compile` with the settings that make the current backend fast (steps fused on JAX's CPU)."""
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics), jit_compile="auto",
                  steps_per_execution=backend.STEPS_PER_EXECUTION[keras.backend.backend()])
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


def _mode(monitor, monitor_mode):
    if monitor_mode in ("min", "max"):
        return monitor_mode
    if monitor_mode != "auto":
        raise ValueError(f"monitor_mode must be 'auto', 'min' or 'max', got {monitor_mode!r}")
    name = monitor.removeprefix("val_")
    if name.endswith(_LOWER_IS_BETTER):
        return "min"
    if name.endswith(_HIGHER_IS_BETTER):
        return "max"
    raise ValueError(f"cannot tell whether monitor={monitor!r} is better low or high: "
                     f"pass monitor_mode='min' or monitor_mode='max'")


def fit(model, data, optimizer, loss, metrics, epochs, batch_size, monitor="val_loss", monitor_mode="auto",
        evaluate=None, callbacks=(), progress=None, train_data=None):
    """Compile, train on `data.x_train`, validate each epoch, then evaluate on named sets.

    Args:
        model: a `keras.Model`.
        data: a container with `x_train, y_train, x_val, y_val` (e.g. `suite.data.store.Split`);
            arrays of any shape (an autoencoder passes `y_train = x_train`).
        optimizer: a `keras.optimizers.Optimizer`.
        loss: any Keras loss: a name such as `"mse"` or `"binary_crossentropy"`, or a
            `keras.losses.Loss` (e.g. `CategoricalCrossentropy` for soft labels).
        metrics: Keras metrics (names or objects) logged besides the loss; may be empty.
        epochs: maximum epochs (callbacks such as EarlyStopping may stop sooner).
        batch_size: training minibatch size.
        monitor: the history entry whose best epoch is reported, e.g. `"val_accuracy"`.
            Defaults to `"val_loss"`.
        monitor_mode: `"min"`, `"max"`, or `"auto"`: `"min"` for names ending in loss, error,
            crossentropy or an error's short name (mae, mse, mape, msle), `"max"` for accuracy,
            auc, precision or recall, an error otherwise. Defaults to `"auto"`.
        evaluate: `{name: (x, y)}`, sets evaluated after training (skipped if it diverged);
            each result is stored as `<name>_<metric>`, e.g. `test_loss`. Defaults to `None`
            (none).
        callbacks: extra callbacks (probes, early stopping), run before progress reporting.
            Defaults to `()`.
        progress: a `suite.study.progress.Progress`, or `None` for silence. Defaults to `None`.
        train_data: a `keras.utils.PyDataset` of training batches (e.g. augmented on the fly,
            `suite.data.augment.AugmentedBatches`) to train on instead of `data.x_train,
            data.y_train`; it sets its own batch size. Defaults to `None`.

    Returns:
        `dict(metrics=..., history=..., status=..., diverged_epoch=...)`: `history` has one
        value per epoch for the loss, each metric, their `val_` forms and `epoch_seconds`;
        `metrics` holds `epochs_run`, `best_epoch` and `best_<monitor>` (the best finite
        value; `None` and NaN if none is finite), `final_val_loss`, `final_val_<metric>` and
        `final_train_<metric>` for each metric, the median `seconds_per_epoch`, and the
        `<name>_<metric>` of each evaluation set; `status` is `"ok"` or `"diverged"`, and
        `diverged_epoch` the first non-finite epoch (1-based) or `None`.

    Example:
        >>> split = Split(x_train, x_train, x_val, x_val)  # an autoencoder: targets = inputs
        >>> out = fit(autoencoder, split, keras.optimizers.Adam(1e-3), "mse", [], epochs=5,
        ...           batch_size=64, evaluate={"test": (x_test, x_test)})
        >>> out["metrics"]["test_loss"]
    """
    mode = _mode(monitor, monitor_mode)
    evaluate = evaluate or {}
    empty = [name for name, (x, _) in evaluate.items() if x is None]
    if empty:
        raise ValueError(f"evaluation sets {empty} have no inputs (x is None): leave them out of `evaluate`")
    compile_fast(model, optimizer, loss, metrics)
    timer, guard = EpochTimer(), DivergenceGuard()
    extra = [ProgressCallback(progress)] if progress else []
    if train_data is None:
        x, y, batch = data.x_train, data.y_train, batch_size
    else:
        x, y, batch = train_data, None, None  # a PyDataset yields (x, y) batches of its own size
    fitted = model.fit(x, y, batch_size=batch, epochs=epochs,
                       validation_data=(data.x_val, data.y_val), validation_batch_size=EVAL_BATCH,
                       callbacks=[timer, guard, *callbacks, *extra], verbose=0)
    history = {k: [float(v) for v in vs] for k, vs in fitted.history.items()}
    history["epoch_seconds"] = timer.seconds
    if monitor not in history:
        raise ValueError(f"monitor={monitor!r} is not in the training history: use one of {sorted(history)}")
    names = [name for name in model.get_metrics_result() if name != "loss"]
    curve = np.array(history[monitor], dtype=float)
    finite = np.isfinite(curve)
    pick = np.nanargmin if mode == "min" else np.nanargmax
    best = int(pick(np.where(finite, curve, np.nan))) if finite.any() else None
    results = {
        "epochs_run": len(curve),
        "best_epoch": None if best is None else best + 1,
        f"best_{monitor}": math.nan if best is None else float(curve[best]),
        "final_val_loss": history["val_loss"][-1],
        **{f"final_val_{name}": history[f"val_{name}"][-1] for name in names},
        **{f"final_train_{name}": history[name][-1] for name in names},
        "seconds_per_epoch": float(np.median(timer.seconds)),
    }
    if guard.diverged_epoch is None:
        for name, (x, y) in evaluate.items():
            scores = model.evaluate(x, y, batch_size=EVAL_BATCH, verbose=0, return_dict=True)
            results.update({f"{name}_{metric}": float(scores[metric]) for metric in ("loss", *names)})
    return {"metrics": results, "history": history,
            "status": "ok" if guard.diverged_epoch is None else "diverged",
            "diverged_epoch": guard.diverged_epoch}


def fit_classifier(model, data, optimizer, epochs, batch_size, callbacks=(), progress=None, train_data=None):
    """`fit` for a softmax classifier of integer labels: accuracy, evaluated on the test set.

    Args:
        model: a `keras.Model` with softmax outputs.
        data: a split with `x_train, y_train, x_val, y_val, x_test, y_test`.
        optimizer: a `keras.optimizers.Optimizer`.
        epochs: maximum epochs (callbacks such as EarlyStopping may stop sooner).
        batch_size: training minibatch size.
        callbacks: extra callbacks (probes, early stopping), run before progress reporting.
            Defaults to `()`.
        progress: a `suite.study.progress.Progress`, or `None` for silence. Defaults to `None`.
        train_data: a `keras.utils.PyDataset` of training batches to train on instead of
            `data.x_train, data.y_train` (see `fit`). Defaults to `None`.

    Returns:
        `fit`'s dict: `history` has `loss, accuracy, val_loss, val_accuracy, epoch_seconds`;
        `metrics` holds `epochs_run, best_epoch, best_val_loss, final_val_loss,
        final_val_accuracy, final_train_accuracy, seconds_per_epoch` and, unless training
        diverged, `test_loss, test_accuracy`.
    """
    return fit(model, data, optimizer, "sparse_categorical_crossentropy", ["accuracy"], epochs, batch_size,
               evaluate={"test": (data.x_test, data.y_test)}, callbacks=callbacks, progress=progress,
               train_data=train_data)
