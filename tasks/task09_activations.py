"""Task09: which hidden activation trains the MLP fastest, and how many ReLU units die?

ReLU, GELU, tanh, sigmoid and SiLU as the hidden activation of the seed study's MLP (784-128 -
Dropout 0.1 - 10; Adam 1e-3, batch 32), everything else equal. Speed is the first epoch at which
validation accuracy reaches 97%; an activation probe on 2,000 fixed training images records,
before training and after every epoch, the fraction of hidden units whose output is <= 0 on
every one of those images (for ReLU: dead units, which get no gradient) and, for tanh and
sigmoid, the fraction of saturated activations.

    python -m suite.run task09 --profile quick --seeds 3     # ~4 min on a 2-core CPU (JAX)
"""

from dataclasses import dataclass

import keras
import numpy as np

from suite.report import findings, plots, probeplots, stats, tables
from suite.data import mnist
from suite.models.mlp import mlp
from suite.probes import ActivationProbe
from suite.training.fit import epochs_to_reach, fit_classifier
from suite.study.stages import Stage

DATA = ("mnist",)  # checked before anything runs
ACTIVATIONS = ("relu", "gelu", "tanh", "sigmoid", "silu")
TARGET = 0.97  # validation accuracy that counts as "converged"
LAYER = "hidden1"


@dataclass(frozen=True)
class Config:
    name: str  # the activation, as Keras names it
    epochs: int
    train_size: int | None
    batch_size: int = 32
    dropout: float = 0.1
    lr: float = 1e-3
    probe_size: int = 2000  # first training images, for the activation probe


def _configs(profile):
    acts = profile.pick(smoke=("relu", "gelu"), quick=ACTIVATIONS, full=ACTIVATIONS)
    return [Config(a, epochs=profile.epochs_or(smoke=2, quick=10, full=20),
                   train_size=profile.subset_or(smoke=512, quick=20000, full=None)) for a in acts]


def stages(profile, options):
    return [Stage("main", _configs(profile))]


def train(c, ctx):
    data = mnist.splits(c.train_size)
    probe = ActivationProbe(data.x_train[:c.probe_size], layers=[LAYER])
    out = fit_classifier(mlp(activation=c.name, dropout=c.dropout), data, keras.optimizers.Adam(c.lr), c.epochs,
                         c.batch_size, callbacks=[probe], progress=ctx.progress)
    m, h = out["metrics"], out["history"]
    dead = np.array(probeplots.column(probe.history, "dead_fraction", LAYER, "layers"))
    saturated = probeplots.column(probe.history, "saturated_fraction", LAYER, "layers")
    m.update(epochs_to_target=epochs_to_reach(h["val_accuracy"], TARGET), first_epoch_val_accuracy=h["val_accuracy"][0],
             best_val_accuracy=max(h["val_accuracy"]), inactive_init=dead[0], inactive_final=dead[-1],
             inactive_max=dead.max(), saturated_final=saturated[-1], probe_seconds=probe.seconds)
    out["probes"] = {"activations": probe.history}
    out["data"] = data.sizes()
    return out


# ---------------------------------------------------------------- analysis

def _claims(w, runs, arms, epochs):
    speed = {a: findings.censored(runs.metric(a, "epochs_to_target"), epochs + 1) for a in arms}
    first = {a: runs.metric(a, "first_epoch_val_accuracy") for a in arms}
    others = [a for a in arms if a != "gelu"]
    by_epochs = {a: stats.compare(speed["gelu"], speed[a]) for a in others}
    by_first = {a: stats.compare(first["gelu"], first[a]) for a in others}
    family = stats.holm([*by_epochs.values(), *by_first.values()])
    by_epochs, by_first = dict(zip(others, family[:len(others)])), dict(zip(others, family[len(others):]))
    faster = [by_epochs[a].verdict == "less" or (not by_epochs[a].conclusive and by_first[a].verdict == "greater")
              for a in others]
    slower = [by_epochs[a].verdict == "greater" or (not by_epochs[a].conclusive and by_first[a].verdict == "less")
              for a in others]
    w.claim("GELU converges faster",
            findings.verdict(all(faster), any(slower)),
            f"GELU minus each other activation, epochs to {TARGET:.0%} validation accuracy (never = {epochs + 1}) / "
            "epoch-1 validation accuracy: "
            + "; ".join(f"{a} {findings.describe(by_epochs[a], digits=1)} / {findings.describe(by_first[a], 100, ' pts')}"
                        for a in others)
            + ". GELU is faster than an arm if it needs reliably fewer epochs, or (when that is within the spread) "
            "has reliably higher epoch-1 accuracy; slower likewise. Agrees if faster than all, disagrees if slower "
            "than any. The original ran no ReLU arm and printed no such numbers.")
    if "relu" not in arms:
        return
    relu, gelu = runs.metric("relu", "inactive_max"), runs.metric("gelu", "inactive_max")
    problem = stats.compare(relu, np.zeros_like(relu))
    avoid = stats.compare(gelu, relu)
    w.claim("GELU avoids the dead-ReLU problem",
            findings.verdict(problem.verdict == "greater" and avoid.verdict == "less", avoid.verdict == "greater"),
            f"largest fraction of hidden units inactive on all {runs.config('relu')['probe_size']} probe images at any "
            f"epoch: ReLU {stats.summarize(relu).fmt(2, 100)} %, GELU {stats.summarize(gelu).fmt(2, 100)} %; ReLU "
            f"minus 0: {findings.describe(problem, 100, ' pts')}; GELU minus ReLU: {findings.describe(avoid, 100, ' pts')}. "
            "Agrees if ReLU reliably has dead units and GELU reliably fewer inactive ones; inconclusive if ReLU has "
            "no reliable dead-unit problem here to avoid.")


def analyze(runs, ctx):
    w = ctx.writeup
    arms = [a for a in ACTIVATIONS if a in runs.arms()]
    c0 = runs.config(arms[0])
    epochs = c0["epochs"]
    w.setup("model", f"784-128 (activation per arm) - Dropout {c0['dropout']} - 10 softmax, Keras default init; "
                     "Keras's `gelu` (exact erf form) and `silu`")
    w.setup("data", f"MNIST, {runs.of(arms[0])[0]['data']} (validation = last 5k training images)")
    w.setup("training", f"Adam {c0['lr']:g}, batch {c0['batch_size']}, {epochs} epochs, no early stopping")
    w.setup("activation probe", f"hidden layer outputs on the first {c0['probe_size']} training images, inference "
                                "mode; inactive unit = output <= 0 on every one of them; saturated = abs(a) > 99% of "
                                "the bound (tanh, sigmoid)")
    table = tables.summary_table(runs, arms, {
        "test acc (%)": ("test_accuracy", 100, 2),
        "best val acc (%)": ("best_val_accuracy", 100, 2),
        "best val loss": ("best_val_loss", 1, 4),
        f"epochs to {TARGET:.0%} val": ("epochs_to_target", 1, 1, epochs + 1),
        "epoch-1 val acc (%)": ("first_epoch_val_accuracy", 100, 2),
        "inactive units, final (%)": ("inactive_final", 100, 2),
        "inactive, max over epochs (%)": ("inactive_max", 100, 2),
        "saturated act. (%)": ("saturated_final", 100, 2),
    }, arm_label="activation")
    table.insert(2, "95% CI", tables.ci_column(runs, arms, "test_accuracy"))
    w.table(table, f"Per activation (mean ± std over seeds; 'never reached' {TARGET:.0%} counts as {epochs + 1})")

    fig, ax = plots.panels(3, width=4.6)
    plots.curves(ax[0], runs, arms, "val_accuracy", "validation accuracy (%)", scale=100)
    ax[0].axhline(100 * TARGET, color="gray", ls=":", lw=1)
    ax[0].set_ylim(90, 100)
    plots.curves(ax[1], runs, arms, "val_loss", "validation loss")
    probeplots.curves(ax[2], runs, arms, "activations", "dead_fraction", "units inactive on all probe images (%)",
                      name=LAYER, names_key="layers", scale=100)
    ax[0].legend(fontsize=8)
    w.figure(fig, "curves", f"Validation accuracy ({TARGET:.0%} dotted), validation loss, and inactive hidden units "
                            "(epoch 0 = initialization): seed mean (line), min-max over seeds (band)")
    fig, ax = plots.panels(1, width=5)
    plots.bars(ax[0], runs, arms, "test_accuracy", "test accuracy (%)", scale=100)
    plots.zoom_to_data(ax[0], runs, arms, "test_accuracy", scale=100)
    w.figure(fig, "test_accuracy", "Final test accuracy: mean ± std (bar), each seed (dot)")

    w.finding(findings.best_sentence({a: runs.metric(a, "test_accuracy") for a in arms}, "test accuracy", "%",
                                     scale=100, diff_unit=" pts"))
    speed = {a: findings.censored(runs.metric(a, "epochs_to_target"), epochs + 1) for a in arms}
    w.finding(findings.best_sentence(speed, f"epochs to {TARGET:.0%} validation accuracy (never reached = {epochs + 1})",
                                     digits=1, higher_is_better=False))
    w.finding(findings.best_sentence({a: runs.metric(a, "first_epoch_val_accuracy") for a in arms},
                                     "epoch-1 validation accuracy", " pts", scale=100))
    for a in [a for a in ("relu", "gelu", "silu") if a in arms]:
        w.finding(f"{a}: hidden units inactive on every probe image, at initialization "
                  f"{stats.summarize(runs.metric(a, 'inactive_init')).fmt(2, 100)} %, at most "
                  f"{stats.summarize(runs.metric(a, 'inactive_max')).fmt(2, 100)} % at any epoch, "
                  f"{stats.summarize(runs.metric(a, 'inactive_final')).fmt(2, 100)} % at the end.")
    if set(arms) >= {"gelu", "relu"} and len(arms) == len(ACTIVATIONS):
        _claims(w, runs, arms, epochs)

    w.limitation("'Inactive' (output <= 0 on all probe images) means no gradient only for ReLU; a GELU or SiLU unit "
                 "with negative inputs still passes a small gradient, so their inactive fraction is not a dead "
                 "fraction. The probe uses 2,000 training images; a unit active on some other image counts as dead here.")
    w.limitation(f"Fixed {epochs} epochs with the protocol's Adam 1e-3 for every activation; no per-activation "
                 "learning rate, so 'faster' is at this one rate.")
    w.limitation("The original study compared tanh / softsign / GELU (best validation loss 0.0726 / 0.0767 / 0.0698) "
                 "and had no ReLU arm; its dead-ReLU statement was not measured there.")
    if c0["train_size"]:
        w.limitation(f"Trained on the first {c0['train_size']} of the 55k training images ({ctx.profile} profile).")
