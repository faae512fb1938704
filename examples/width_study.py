"""Your own study: does a wider hidden layer make the MNIST MLP more accurate?

Two arms (32 vs 256 hidden units), the suite's seeds, stores, backends and profiles, and one
claim judged by the suite's comparison rule. Run it like any task:

    python -m suite.run examples/width_study.py --profile quick      # ~1 min on JAX, 2-core CPU
    python -m suite.report examples/width_study.py                   # rebuild the writeup
"""

from dataclasses import dataclass

import keras

from suite.data import mnist
from suite.models.mlp import mlp
from suite.report import findings, plots, stats, tables
from suite.study.stages import Stage
from suite.training.fit import fit_classifier

TITLE = "Width: 32 vs 256 hidden units"
REPORT = "Width_Study.md"
QUESTION = "Is the 784-256-10 MLP more accurate on MNIST than the 784-32-10 one after the same training?"
CLAIMS = ("a wider hidden layer gives higher test accuracy",)
DATA = ("mnist",)


@dataclass(frozen=True)
class Config:
    name: str
    width: int
    epochs: int
    train_size: int | None
    lr: float = 1e-3
    batch_size: int = 32


def stages(profile, options):
    base = dict(epochs=profile.epochs_or(smoke=1, quick=3, full=10),
                train_size=profile.subset_or(smoke=512, quick=10000, full=None))
    return [Stage("main", [Config(f"width{w}", w, **base) for w in (32, 256)])]


def train(c, ctx):
    out = fit_classifier(mlp(hidden=(c.width,)), mnist.splits(c.train_size), keras.optimizers.Adam(c.lr),
                         c.epochs, c.batch_size, progress=ctx.progress)
    out["metrics"]["parameters"] = 784 * c.width + c.width + c.width * 10 + 10
    return out


def analyze(runs, ctx):
    w = ctx.writeup
    w.table(tables.summary_table(runs, runs.arms(), {"test acc (%)": ("test_accuracy", 100, 2),
                                                     "parameters": ("parameters", 1, 0)}), "Per arm, over seeds")
    fig, ax = plots.panels(1, width=5)
    plots.curves(ax[0], runs, runs.arms(), "val_accuracy", "validation accuracy (%)", scale=100)
    w.figure(fig, "width_curves", "Validation accuracy per epoch: seed mean and min-max band")
    wide, narrow = runs.metric("width256", "test_accuracy"), runs.metric("width32", "test_accuracy")
    c = stats.compare(wide, narrow)
    w.finding(findings.best_sentence({a: runs.metric(a, "test_accuracy") for a in runs.arms()}, "test accuracy",
                                     "%", diff_unit=" pts", scale=100))
    w.claim(CLAIMS[0], findings.verdict(c.verdict == "greater", c.verdict == "less"),
            f"test accuracy, width 256 minus width 32: {findings.describe(c, 100, ' pts')}.")
    w.limitation(f"{runs.config('width32')['epochs']} epochs, Adam 1e-3, batch 32: one training budget only.")
