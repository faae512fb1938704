"""Task01: what do the MNIST MLP's softmax outputs look like for right and wrong answers, and are
they calibrated?

The seed study (seeds/003) "analyzed the raw probability distributions output by the softmax
layer" of its base model. Here the base model (784-128 ReLU-10, Adam 1e-3, batch 32) is read on
the 10k test images after a short (3-epoch) and a long (20-epoch) training run: confidence and
top-2 margin of right vs wrong answers, logits, expected calibration error (15 equal-width
bins) with the reliability diagram, the most and least confident test images, and how many
hidden ReLU units each image switches off. The validation-set ECE is logged every epoch.

    python -m suite.run task01 --profile quick --seeds 3    # ~3 min on a 2-core CPU (JAX)
"""

from dataclasses import dataclass

import keras
import numpy as np

from suite.measures import calibration
from suite.report import findings, plots, stats, tables
from suite.data import mnist
from suite.models.mlp import mlp
from suite.probes import CalibrationProbe
from suite.training.fit import EVAL_BATCH, fit_classifier
from suite.study.stages import Stage

DATA = ("mnist",)  # checked before anything runs
# jax: measured (3 seeds, 3.5 min, loaded 2-core CPU; scaled to 2); tensorflow, torch: scaled by task07's ratios
GALLERY = 8  # images per row of the gallery


@dataclass(frozen=True)
class Config:
    name: str
    epochs: int
    train_size: int | None
    lr: float = 1e-3
    batch_size: int = 32


def _configs(profile):
    long = profile.epochs_or(smoke=2, quick=20, full=20)
    short = min(profile.pick(smoke=1, quick=3, full=3), long)
    size = profile.subset_or(smoke=512, quick=None, full=None)
    return [Config(f"{e}_epochs", e, size) for e in dict.fromkeys((short, long))]


def stages(profile, options):
    return [Stage("main", _configs(profile))]


def train(c, ctx):
    data = mnist.splits(c.train_size)
    model = mlp()
    probe = CalibrationProbe(data.x_val, data.y_val)
    out = fit_classifier(model, data, keras.optimizers.Adam(c.lr), c.epochs, c.batch_size, callbacks=[probe],
                         progress=ctx.progress)
    if out["status"] != "ok":
        return out
    reader = keras.Model(model.inputs, [model.get_layer("hidden1").output, model.get_layer("logits").output,
                                        model.get_layer("softmax").output])
    hidden, logits, probs = (np.asarray(a) for a in reader.predict(data.x_test, batch_size=EVAL_BATCH, verbose=0))
    summary = calibration.summarize(probs, data.y_test, logits)
    right = probs.argmax(-1) == data.y_test
    zero = (hidden <= 0).mean(axis=1)  # fraction of ReLU units at zero, per image
    out["metrics"].update({k: v for k, v in summary.items() if np.isscalar(v)})
    out["metrics"].update(
        hidden_mean=float(hidden.mean()), hidden_zero_fraction=float(zero.mean()),
        hidden_zero_fraction_right=float(zero[right].mean()),
        hidden_zero_fraction_wrong=float(zero[~right].mean()) if (~right).any() else float("nan"),
        dead_units=int((hidden <= 0).all(axis=0).sum()), val_ece_final=out["history"]["val_ece"][-1])
    out["softmax"] = {k: v for k, v in summary.items() if not np.isscalar(v)}
    out["softmax"]["zero_fraction_hist"] = calibration.histogram(zero, np.linspace(0, 1, 21))
    out["examples"] = calibration.extremes(probs, data.y_test, GALLERY, scores=calibration.top2_margin(logits))
    out["data"] = data.sizes()
    return out


# ---------------------------------------------------------------- analysis

def _hist(ax, runs, arm, key, label, edges_key="hist_edges"):
    edges = np.array(runs.of(arm)[0]["softmax"][edges_key])
    for name, colour in (("right", "C2"), ("wrong", "C3")):
        counts = np.array([r["softmax"][f"{key}_hist_{name}"] for r in runs.of(arm)], dtype=float)
        frac = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        ax.stairs(frac.mean(0), edges, color=colour, label=f"{name} ({counts.sum(1).mean():.0f} per seed)", lw=1.8)
    ax.set_xlabel(label)
    ax.set_ylabel("fraction of answers (seed mean)")
    ax.set_yscale("log")
    ax.set_title(arm, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def _reliability(ax, runs, arm):
    for i, r in enumerate(runs.of(arm)):
        rel = r["softmax"]["reliability"]
        ok = np.array(rel["count"]) > 0
        ax.plot(np.array(rel["confidence"])[ok], np.array(rel["accuracy"])[ok], "o-", ms=3, color=f"C{i}",
                label=f"seed {r['seed']}", alpha=0.8)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8, label="perfect calibration")
    ax.set_xlabel("mean confidence in bin")
    ax.set_ylabel("accuracy in bin")
    ax.set_title(f"{arm}: reliability (15 bins)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)


def _gallery(runs, arm):
    import matplotlib.pyplot as plt

    x_test = mnist.splits(runs.config(arm)["train_size"]).x_test
    ex = runs.of(arm)[0]["examples"]
    rows = [("most confident", ex["most_confident"]), ("most confident wrong", ex["most_confident_wrong"]),
            ("least confident", ex["least_confident"])]
    fig, axes = plt.subplots(len(rows), GALLERY, figsize=(1.3 * GALLERY, 1.75 * len(rows)), squeeze=False)
    for i, (title, items) in enumerate(rows):
        for j in range(GALLERY):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(items):
                e = items[j]
                ax.imshow(x_test[e["index"]], cmap="gray")
                ax.set_title(f"#{e['index']} y={e['label']} ŷ={e['prediction']}\n"
                             f"p={e['confidence']:.4f} Δz={e['score']:.2f}", fontsize=7,
                             color="C3" if e["label"] != e["prediction"] else "black")
        axes[i, 0].text(-0.15, 0.5, title, transform=axes[i, 0].transAxes, ha="right", va="center", fontsize=8)
    return fig


def analyze(runs, ctx):
    w = ctx.writeup
    arms = runs.arms()
    arms.sort(key=lambda a: runs.config(a)["epochs"])
    c0 = runs.config(arms[-1])
    w.setup("model", "784-128 ReLU-10 softmax (no dropout), Keras default init")
    w.setup("data", f"MNIST, {runs.of(arms[0])[0]['data']}; every statistic below is on the 10k test images")
    w.setup("training", f"Adam {c0['lr']:g}, batch {c0['batch_size']}; arms = training length "
                        + ", ".join(str(runs.config(a)["epochs"]) for a in arms) + " epochs")
    w.setup("calibration", f"ECE with {calibration.ECE_BINS} equal-width confidence bins; overconfidence = "
                           "mean top probability minus accuracy")

    m = lambda a, k: runs.metric(a, k)  # noqa: E731
    w.table(tables.summary_table(runs, arms, {
        "test acc (%)": ("accuracy", 100, 2), "wrong answers": ("n_wrong", 1, 0),
        "ECE (%)": ("ece", 100, 2), "overconfidence (pts)": ("overconfidence", 100, 2),
        "NLL": ("nll", 1, 4), "AUROC conf. right vs wrong": ("auroc_confidence", 1, 3),
        "val ECE, last epoch (%)": ("val_ece_final", 100, 2)}), "Accuracy and calibration (mean ± std over seeds)")
    rows = {"mean confidence": ("mean_confidence", 1, 4), "median confidence": ("median_confidence", 1, 4),
            "share with confidence > 0.99": ("frac_confidence_above_0.99", 1, 3),
            "top-2 probability margin": ("mean_margin", 1, 4), "entropy (nats)": ("mean_entropy", 1, 4),
            "max logit": ("logit_max", 1, 2), "top-2 logit margin": ("logit_margin", 1, 2),
            "logit std across classes": ("logit_std", 1, 2), "ReLU units at zero": ("hidden_zero_fraction", 1, 3)}
    import pandas as pd

    table = pd.DataFrame([{"statistic (test images)": label, **{f"{a}: {n}": stats.summarize(m(a, f"{k}_{n}")).fmt(d, s)
                                                                for a in arms for n in ("right", "wrong")}}
                          for label, (k, s, d) in rows.items()])
    w.table(table, "Softmax, logit and hidden-layer statistics of right vs wrong answers (mean ± std over seeds)")

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(len(arms), 3, figsize=(12.6, 3.2 * len(arms)), squeeze=False)
    for i, a in enumerate(arms):
        _hist(ax[i, 0], runs, a, "confidence", "top softmax probability")
        _hist(ax[i, 1], runs, a, "doubt", "log10(1 - top probability)", "doubt_edges")
        _hist(ax[i, 2], runs, a, "margin", "top-2 probability margin")
    fig.tight_layout()
    w.figure(fig, "confidence", "Distribution of the top softmax probability (linear bins, and log10 of one minus it "
                                "to resolve the values near 1; 1e-8 and below, including float32 probabilities "
                                "that round to 1, in the first bin) and of the top-2 "
                                "margin on the test set, right vs wrong answers (fraction of each group per bin)")
    fig, ax = plots.panels(len(arms) + 1)
    for i, a in enumerate(arms):
        _reliability(ax[i], runs, a)
    plots.curves(ax[-1], runs, [a for a in arms if runs.config(a)["epochs"] > 1], "val_ece", "validation ECE (%)",
                 scale=100)
    ax[-1].set_title("calibration error during training", fontsize=9)
    w.figure(fig, "reliability", "Reliability diagrams on the test set (each seed) and the validation ECE after "
                                 "every epoch (seed mean, min-max band)")
    w.figure(_gallery(runs, arms[-1]), "examples", "Most confident, most confidently wrong and least confident test "
                                                   f"images ({arms[-1]}, seed {runs.of(arms[-1])[0]['seed']}), ranked "
                                                   "by the top-2 logit margin Δz (the float32 top probability p "
                                                   "saturates at 1.0); y = label, ŷ = prediction")

    for a in arms:
        conf = stats.compare(m(a, "mean_confidence_right"), m(a, "mean_confidence_wrong"))
        sure_wrong = stats.summarize(m(a, "frac_confidence_above_0.99_wrong")).fmt(1, 100)
        right, wrong = (stats.summarize(m(a, f"mean_confidence_{k}")).fmt(4) for k in ("right", "wrong"))
        w.finding(f"{a}: right answers have mean top probability {right}, wrong ones {wrong} (difference "
                  f"{findings.describe(conf, digits=4)}); {sure_wrong}% "
                  f"of the wrong answers have top probability > 0.99; confidence separates right from wrong with "
                  f"AUROC {stats.summarize(m(a, 'auroc_confidence')).fmt(3)}.")
        over = stats.summarize(m(a, "overconfidence"))
        side = ("overconfident" if over.mean - over.ci95 > 0 else "underconfident" if over.mean + over.ci95 < 0
                else "neither reliably over- nor underconfident")
        w.finding(f"{a}: ECE {stats.summarize(m(a, 'ece')).fmt(2, 100)}%; mean confidence minus accuracy "
                  f"{over.fmt(2, 100)} pts (95% interval ± {over.ci95 * 100:.2f}): {side} on average.")
    if len(arms) > 1:
        short, long = arms[0], arms[-1]
        for key, label, scale, unit, d in (("ece", "ECE", 100, " pts", 2), ("nll", "test NLL", 1, "", 4),
                                           ("accuracy", "test accuracy", 100, " pts", 2),
                                           ("mean_confidence_wrong", "mean confidence of wrong answers", 1, "", 4),
                                           ("hidden_zero_fraction", "share of ReLU units at zero", 1, "", 3)):
            c = stats.compare(m(long, key), m(short, key))
            w.finding(f"{label}, {long} minus {short}: {findings.describe(c, scale, unit, d)}.")
    curve = runs.history(arms[-1], "val_ece")
    low = int(np.nanargmin(np.nanmean(curve, 0)))
    w.finding(f"{arms[-1]}: the validation ECE (seed mean) is lowest after epoch {low + 1} "
              f"({stats.summarize(curve[:, low]).fmt(2, 100)}%)"
              + (f" and ends at {stats.summarize(curve[:, -1]).fmt(2, 100)}% after epoch {curve.shape[1]}."
                 if low + 1 < curve.shape[1] else ", the last epoch."))
    dead = stats.summarize(m(arms[-1], "dead_units"))
    w.finding(f"{arms[-1]}: each test image leaves {stats.summarize(m(arms[-1], 'hidden_zero_fraction')).fmt(1, 100)}% "
              f"of the 128 hidden ReLU units at zero; {dead.fmt(1)} units are zero on every test image.")

    measured = all("softmax" in r for r in runs)
    long = arms[-1]
    gap = stats.compare(m(long, "mean_confidence_right"), m(long, "mean_confidence_wrong"))
    w.claim("analyzed the raw probability distributions output by the softmax layer",
            "agrees" if measured else "inconclusive",
            "A description of an analysis, not a result; rule: agrees when the softmax distributions were measured "
            f"on every seed of every arm (here {len(runs)} runs). What they show ({long}): wrong answers are less "
            f"confident than right ones by {findings.describe(gap, digits=4)}; "
            f"{stats.summarize(m(long, 'frac_confidence_above_0.99_wrong')).fmt(1, 100)}% of wrong answers have top "
            f"probability > 0.99; ECE {stats.summarize(m(long, 'ece')).fmt(2, 100)}%.")

    w.limitation("One architecture and optimizer; calibration depends on both, and on the training length "
                 "(only " + " and ".join(str(runs.config(a)["epochs"]) for a in arms) + " epochs were measured).")
    top = [r["softmax"]["reliability"]["count"][-1] / sum(r["softmax"]["reliability"]["count"]) for r in runs.of(long)]
    w.limitation(f"ECE with {calibration.ECE_BINS} equal-width bins is a coarse, biased estimate: in {long} "
                 f"{stats.summarize(top).fmt(1, 100)}% of the test images fall into the top bin "
                 f"(confidence > {1 - 1 / calibration.ECE_BINS:.3f}), so the ECE mostly reflects that one bin.")
    w.limitation(f"Statistics of wrong answers rest on {stats.summarize(m(long, 'n_wrong')).fmt(0)} misclassified "
                 f"test images per seed ({long}).")
    w.limitation("The gallery shows one seed; no post-hoc calibration (e.g. temperature scaling) was tried.")
    if c0["train_size"]:
        w.limitation(f"Trained on the first {c0['train_size']} training images ({ctx.profile} profile).")
