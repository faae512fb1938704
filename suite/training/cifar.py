"""Train (or reload) the seed CIFAR-10 CNN of seeds/004, shared by the studies that use it.

task11 trains the arms and stores each model's weights as an artifact of its run (never
committed); task12 reaches them through `ctx.upstream`, which trains the task11 run first
when it is not stored (`from_upstream`).
"""

import dataclasses
import json
from dataclasses import dataclass

import keras
import numpy as np

from suite import SuiteError
from suite.measures import confusion
from suite.data import augment, cifar10
from suite.models.cnn import cifar_cnn
from suite.probes import EvaluationProbe
from suite.training.fit import EVAL_BATCH, fit_classifier

SOURCE_TASK = "task11"
WEIGHTS = "model.weights.h5"  # the artifact of each task11 run
CLEAN_TRAIN_PROBE = 5000  # training images evaluated clean (no augmentation, no dropout) every epoch


@dataclass(frozen=True)
class Config:
    """One arm of the CIFAR CNN protocol (seeds/004: Adam 1e-3, batch 128, 30 epochs)."""

    name: str
    epochs: int
    train_size: int | None  # first N of the 45k training images; None = all
    test_size: int | None  # first N test images (the 1,000 exact ones come first); None = all
    augment: bool = False  # random crop (4-px zero padding) + horizontal flip, training only
    dropout: float = 0.5  # PyTorch's nn.Dropout() default; the seed does not state its rate
    conventions: str = "torch"  # the seed ran on PyTorch (DESIGN.md 6b)
    batch_size: int = 128
    lr: float = 1e-3


def protocol(profile):
    """Epochs and data sizes of the protocol for a profile: smoke seconds, quick minutes, full = seed."""
    return dict(epochs=profile.epochs_or(smoke=2, quick=8, full=30),
                train_size=profile.subset_or(smoke=1024, quick=10000, full=None),
                test_size=profile.pick(smoke=500, quick=None, full=None))


def build(c):
    """The seed CNN for config `c`, inputs standardized inside the model with the CIFAR means."""
    return cifar_cnn(dropout=c.dropout, conventions=c.conventions, mean=cifar10.MEAN, std=cifar10.STD)


def predict_labels(model, x):
    """Arg-max class of every image, in inference mode."""
    return np.argmax(model.predict(x, batch_size=EVAL_BATCH, verbose=0), axis=1)


def train(c, seed, progress=None):
    """Train arm `c` with `seed`; returns `(model, out)` with `out` ready for the results store.

    Besides `suite.training.fit.fit_classifier`'s metrics, `out["metrics"]` holds the clean
    training accuracy (all training images, no augmentation, dropout off), test accuracy on the
    exact and on the JPEG-recovered test images, per-class test accuracy
    (`class_acc_<name>`) and both train-test gaps; `out["confusion"]` is the test confusion
    matrix and `out["history"]["clean_train_accuracy"]` the clean accuracy on a fixed subset of
    the training images after every epoch.
    """
    data = cifar10.splits(c.train_size, c.test_size)
    model = build(c)
    probe = EvaluationProbe(data.x_train[:CLEAN_TRAIN_PROBE], data.y_train[:CLEAN_TRAIN_PROBE],
                            prefix="clean_train_", batch_size=EVAL_BATCH, metrics=["accuracy"])
    batches = augment.AugmentedBatches(data.x_train, data.y_train, c.batch_size, seed=seed) if c.augment else None
    out = fit_classifier(model, data, keras.optimizers.Adam(c.lr), c.epochs, c.batch_size, callbacks=[probe],
                         progress=progress, train_data=batches)
    out["data"] = data.sizes()
    if out["status"] != "ok":
        return model, out
    m = out["metrics"]
    pred = predict_labels(model, data.x_test)
    right = pred == data.y_test
    exact = np.ones_like(right) if data.test_lossless is None else data.test_lossless
    m["test_accuracy"] = float(right.mean())  # same images as fit's evaluate; from the stored predictions
    m["test_accuracy_exact"] = float(right[exact].mean())
    m["test_exact_images"] = int(exact.sum())
    m["test_accuracy_recovered"] = float(right[~exact].mean()) if (~exact).any() else float("nan")
    m["train_accuracy_clean"] = float(np.mean(predict_labels(model, data.x_train) == data.y_train))
    m["gap_clean"] = m["train_accuracy_clean"] - m["test_accuracy"]
    m["gap_running"] = m["final_train_accuracy"] - m["test_accuracy"]
    for k, name in enumerate(cifar10.CLASSES):
        m[f"class_acc_{name}"] = float(right[data.y_test == k].mean())
    out["confusion"] = confusion.matrix(data.y_test, pred, len(cifar10.CLASSES)).tolist()
    return model, out


def from_upstream(c, ctx):
    """The task11 model of arm `c` and seed `ctx.seed`, through `ctx.upstream`: its stored weights,
    or, when task11 has not stored them on this backend and profile, a task11 run trained now.

    Returns `(model, upstream)`; `upstream.record` is task11's record of that run.
    """
    up = ctx.upstream("main", c.name, task=SOURCE_TASK, artifacts=(WEIGHTS,))
    if up.record["config"] != json.loads(json.dumps(dataclasses.asdict(c))):
        raise SuiteError(f"{SOURCE_TASK}'s stored {c.name} seed {ctx.seed} has another config than {ctx.task} asks "
                         f"for; rerun {SOURCE_TASK} with --fresh")
    model = build(c)
    model.load_weights(up.artifact(WEIGHTS))
    return model, up
