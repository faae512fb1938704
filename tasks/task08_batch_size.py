"""Task08: how does the batch size trade gradient noise, sharpness, speed and accuracy?

Batch sizes 8 / 32 / 128 / 512 on the seed study's MLP (784-128 ReLU - Dropout 0.1 - 10), Adam
1e-3 for every batch size as in the original (the learning rate is not rescaled), the same
epochs and images for every arm. Measured per arm:
- gradient noise: mean over minibatches of ||g_b - g||^2 on fixed training images, both at the
  arm's own batch size (the noise its updates carry) and at a common batch size of 32 (the
  noisiness of the landscape where the arm is), before training and after every epoch;
- sharpness of the final weights on 2,048 training images: the mean loss rise under random
  filter-normalized perturbations of 20%, taken both ways (+d, -d), and the top Hessian
  eigenvalue (`suite.measures.sharpness`);
- jitter of the validation-loss curve (std of its per-epoch second differences from epoch 3 on),
  seconds per epoch, and test accuracy.

    python -m suite.run task08 --profile quick --seeds 3     # ~7 min on a 2-core CPU (JAX)
"""

from dataclasses import dataclass

import keras
import numpy as np

from suite.measures import sharpness
from suite.report import findings, plots, probeplots, stats, tables
from suite.data import mnist
from suite.models.mlp import mlp
from suite.probes import GradientProbe
from suite.training.fit import fit_classifier
from suite.study.stages import Stage

DATA = ("mnist",)  # checked before anything runs
BATCHES = (8, 32, 128, 512)
REFERENCE = 32  # the batch size the original called the best balance


@dataclass(frozen=True)
class Config:
    name: str
    batch_size: int
    epochs: int
    train_size: int | None
    lr: float = 1e-3
    dropout: float = 0.1
    probe_batch: int = 32  # the common batch size of the gradient-noise probe
    sharp_n: int = 2048  # training images for the sharpness measures
    radius: float = 0.2  # relative size of the random weight perturbations
    directions: int = 8
    probe_n: int = 2048  # at most this many training images per gradient-noise probe, 32 minibatches at most


def _configs(profile):
    batches = profile.pick(smoke=(8, 128), quick=BATCHES, full=BATCHES)
    return [Config(f"batch{b}", b, epochs=profile.epochs_or(smoke=2, quick=10, full=20),
                   train_size=profile.subset_or(smoke=512, quick=20000, full=None)) for b in batches]


def stages(profile, options):
    return [Stage("main", _configs(profile))]


def _probe(x, y, batch_size, n):
    k = max(2, min(32, n // batch_size, len(x) // batch_size))
    return GradientProbe(x[:k * batch_size], y[:k * batch_size], batch_size=batch_size, batches=k)


def _total(history, key):
    return [float(sum(p)) for p in history[key]]


def train(c, ctx):
    data = mnist.splits(c.train_size)
    x, y = data.x_train, data.y_train
    own, common = _probe(x, y, c.batch_size, c.probe_n), _probe(x, y, c.probe_batch, c.probe_n)
    model = mlp(dropout=c.dropout)
    out = fit_classifier(model, data, keras.optimizers.Adam(c.lr), c.epochs, c.batch_size,
                         callbacks=[own, common], progress=ctx.progress)
    m, h = out["metrics"], out["history"]
    noise_own, noise_common = _total(own.history, "noise"), _total(common.history, "noise")
    signal_own = [float(sum(v**2 for v in p)) for p in own.history["norm"]]
    m.update(noise_own_final=noise_own[-1], noise_own_mean=float(np.mean(noise_own[1:])),
             noise_common_final=noise_common[-1], noise_common_mean=float(np.mean(noise_common[1:])),
             noise_common_init=noise_common[0],
             noise_to_signal_final=noise_own[-1] / max(signal_own[-1], 1e-30),
             steps_per_epoch=int(np.ceil(len(y) / c.batch_size)),
             train_seconds=float(np.sum(h["epoch_seconds"])), probe_seconds=own.seconds + common.seconds,
             best_val_accuracy=max(h["val_accuracy"]))
    if len(h["val_loss"]) >= 6:  # at least two second differences from epoch 3 on (past the steep start)
        m["val_loss_jitter"] = float(np.std(np.diff(h["val_loss"][2:], 2), ddof=1))
    if out["status"] == "ok":
        xs, ys = x[:c.sharp_n], y[:c.sharp_n]
        s = sharpness.perturbation_sharpness(model, xs, ys, radius=c.radius, directions=c.directions, seed=ctx.seed)
        e = sharpness.top_hessian_eigenvalue(model, xs[:1024], ys[:1024], iters=30, seed=ctx.seed)
        m.update(sharpness_rise=s["rise"], sharpness_base_loss=s["base_loss"], hessian_top=e["eigenvalue"],
                 hessian_converged=e["converged"])
        out["sharpness"] = {"perturbation": s, "hessian": e}
    out["probes"] = {"grad_own": own.history, "grad_common": common.history}
    out["data"] = data.sizes()
    return out


# ---------------------------------------------------------------- analysis

def _vs_reference(values):
    ref = values[f"batch{REFERENCE}"]
    return {a: stats.compare(v, ref) for a, v in values.items() if a != f"batch{REFERENCE}"}


def _derive(r):
    """Per-run values computed from the stored record, added to its metrics (in memory only): the fastest
    epoch after the first (the least disturbed by other jobs on a shared machine; the first includes
    compilation) and the gradient noise at the arm's own batch size estimated from the batch-32 probe as
    noise_32 * 32 / B (the variance of a mean of B independent samples), from 4-32x more images than
    the direct measurement."""
    m, c, seconds = r["metrics"], r["config"], r["history"]["epoch_seconds"]
    m["fastest_epoch_s"] = min(seconds[1:]) if len(seconds) > 1 else seconds[0]
    m["noise_own_scaled"] = m["noise_common_final"] * c["probe_batch"] / c["batch_size"]


def _claims(w, runs, arms):
    desc = lambda cs, **kw: ", ".join(f"{a} {findings.describe(c, **kw)}" for a, c in cs.items())  # noqa: E731
    pairs = list(zip(arms, arms[1:]))
    scaled = stats.holm([stats.compare(runs.metric(a, "noise_own_scaled"), runs.metric(b, "noise_own_scaled"))
                         for a, b in pairs])
    direct = [stats.compare(runs.metric(a, "noise_own_final"), runs.metric(b, "noise_own_final")) for a, b in pairs]
    w.claim("small batches: noisy gradients",
            findings.verdict(all(c.verdict == "greater" for c in scaled), any(c.verdict == "less" for c in scaled)),
            "final gradient noise at the arm's own batch size (noise at batch 32 x 32 / B), each batch minus the next "
            "larger: " + ", ".join(f"{a}-{b} {findings.describe(c, digits=3)}" for (a, b), c in zip(pairs, scaled))
            + "; measured directly at the own batch size (fewer images): "
            + ", ".join(f"{a}-{b} {findings.describe(c, digits=3)}" for (a, b), c in zip(pairs, direct))
            + ". Agrees if by the first estimate every smaller batch is reliably noisier than the next larger one.")
    speed = _vs_reference({a: runs.metric(a, "fastest_epoch_s") for a in arms})
    small, large = speed["batch8"], stats.holm({a: speed[a] for a in arms if int(a[5:]) > REFERENCE})
    w.claim("small batches: slower", findings.verdict(small.verdict == "greater", small.verdict == "less"),
            f"fastest epoch (s), batch 8 minus batch 32: {findings.describe(small)}.")
    w.claim("large batches: faster",
            findings.verdict(all(c.verdict == "less" for c in large.values()),
                             any(c.verdict == "greater" for c in large.values())),
            "fastest epoch (s) minus batch 32: " + desc(large)
            + ". Agrees if every larger batch is reliably faster.")
    rise = _vs_reference({a: runs.metric(a, "sharpness_rise") for a in arms})
    eig = _vs_reference({a: runs.metric(a, "hessian_top") for a in arms})
    big = arms[-1]
    rise[big], eig[big] = stats.holm([rise[big], eig[big]])
    w.claim("large batches: sharper",
            findings.verdict(rise[big].verdict == "greater" and eig[big].verdict == "greater",
                             "less" in (rise[big].verdict, eig[big].verdict)
                             and "greater" not in (rise[big].verdict, eig[big].verdict)),
            f"{big} minus batch 32: perturbation loss rise {findings.describe(rise[big], digits=4)}, top Hessian "
            f"eigenvalue {findings.describe(eig[big], digits=1)}. Agrees if both are reliably higher; disagrees if "
            "either is reliably lower and neither reliably higher.")
    acc = _vs_reference({a: runs.metric(a, "test_accuracy") for a in arms})
    w.claim("large batches: less generalizable",
            findings.verdict(acc[big].verdict == "less", acc[big].verdict == "greater"),
            f"test accuracy, {big} minus batch 32: {findings.describe(acc[big], 100, ' pts')}.")
    family = stats.holm({**{("acc", a): c for a, c in acc.items()}, **{("speed", a): speed[a] for a in acc}})
    acc, speed = {a: family["acc", a] for a in acc}, {a: family["speed", a] for a in acc}
    dominates = [a for a in acc if (acc[a].verdict == "greater" and speed[a].verdict != "greater")
                 or (speed[a].verdict == "less" and acc[a].verdict != "less")]
    beaten = all(acc[a].verdict == "less" or speed[a].verdict == "greater" for a in acc)
    w.claim("32 best balance", findings.verdict(beaten and not dominates, bool(dominates)),
            "test accuracy minus batch 32: " + desc(acc, scale=100, unit=" pts")
            + "; fastest epoch (s) minus batch 32: " + desc(speed)
            + ". Agrees if every other batch is reliably less accurate or reliably slower than 32 and none dominates it; "
            "disagrees (dominates) if some batch is reliably faster without being reliably less accurate, or reliably more "
            "accurate without being reliably slower" + (f" (here: {', '.join(dominates)})" if dominates else "") + ".")


def analyze(runs, ctx):
    w = ctx.writeup
    arms = [a for a in (f"batch{b}" for b in BATCHES) if a in runs.arms()]
    for r in runs:
        _derive(r)
    c0 = runs.config(arms[0])
    epochs = c0["epochs"]
    w.setup("model", f"784-128 ReLU - Dropout {c0['dropout']} - 10 softmax, Keras default init")
    w.setup("data", f"MNIST, {runs.of(arms[0])[0]['data']} (validation = last 5k training images)")
    w.setup("training", f"Adam {c0['lr']:g} for every batch size (not rescaled), {epochs} epochs for every arm, "
                        "no early stopping (its epoch is reported as 'best epoch')")
    w.setup("gradient noise", "mean over minibatches of the squared distance of each minibatch gradient from their "
                              "mean (all variables, inference mode) on the first training images: up to 32 "
                              f"minibatches of the arm's own size within {c0['probe_n']} images "
                              f"(batch 512: 4), and 32 of {c0['probe_batch']} for the common measure")
    w.setup("sharpness", f"on the first {c0['sharp_n']} training images, inference mode: mean cross-entropy rise over "
                         f"{c0['directions']} random directions, each kernel column moved by ±{c0['radius']:.0%} of its "
                         "norm (biases fixed; rise = mean of the two sides minus the unperturbed loss); top Hessian "
                         "eigenvalue by power iteration (<= 30 steps, finite-difference Hessian-vector products, first "
                         "1024 of those images)")
    jitter = all(runs.has_metric(a, "val_loss_jitter") for a in arms)  # needs >= 6 epochs
    columns = {
        "steps/epoch": ("steps_per_epoch", 1, 0),
        "test acc (%)": ("test_accuracy", 100, 2),
        "best val loss": ("best_val_loss", 1, 4),
        "best epoch": ("best_epoch", 1, 1),
        "fastest epoch (s)": ("fastest_epoch_s", 1, 2),
        "noise (own batch)": ("noise_own_final", 1, 3),
        "noise (own, from batch 32)": ("noise_own_scaled", 1, 3),
        f"noise (batch {c0['probe_batch']})": ("noise_common_final", 1, 3),
        "noise/signal (own)": ("noise_to_signal_final", 1, 2),
        f"loss rise ({c0['radius']:.0%})": ("sharpness_rise", 1, 4),
        "top Hessian eig.": ("hessian_top", 1, 1),
    } | ({"val-loss jitter": ("val_loss_jitter", 1, 4)} if jitter else {})
    w.table(tables.summary_table(runs, arms, columns, arm_label="batch"),
            "Per batch size (mean ± std over seeds); noise and sharpness at the final weights")

    fig, ax = plots.panels(3, width=4.6)
    probeplots.curves(ax[0], runs, arms, "grad_own", "noise", "gradient noise, own batch", reduce=sum, log=True)
    probeplots.curves(ax[1], runs, arms, "grad_common", "noise", f"gradient noise, batch {c0['probe_batch']}",
                      reduce=sum, log=True)
    plots.curves(ax[2], runs, arms, "val_loss", "validation loss")
    ax[0].legend(fontsize=8)
    w.figure(fig, "noise", "Minibatch-gradient noise on the fixed probe set (epoch 0 = initialization) and the "
                           "validation loss: seed mean (line), min-max over seeds (band)")
    fig, ax = plots.panels(4, width=3.8)
    for axis, (metric, label, scale) in zip(ax, [("sharpness_rise", f"loss rise at {c0['radius']:.0%} perturbation", 1),
                                                 ("hessian_top", "top Hessian eigenvalue", 1),
                                                 ("fastest_epoch_s", "fastest epoch (s)", 1),
                                                 ("test_accuracy", "test accuracy (%)", 100)]):
        plots.bars(axis, runs, arms, metric, label, scale=scale)
    plots.zoom_to_data(ax[3], runs, arms, "test_accuracy", scale=100)
    w.figure(fig, "sharpness", "Sharpness of the final weights, time per epoch and test accuracy: mean ± std (bar), "
                               "each seed (dot)")

    w.finding(findings.best_sentence({a: runs.metric(a, "test_accuracy") for a in arms}, "test accuracy", "%",
                                     scale=100, diff_unit=" pts"))
    w.finding(findings.best_sentence({a: runs.metric(a, "fastest_epoch_s") for a in arms},
                                     "time of the fastest epoch after the first", " s",
                                     higher_is_better=False)
              + " Median epochs: " + ", ".join(f"{a} {stats.summarize(runs.metric(a, 'seconds_per_epoch')).fmt(2)} s"
                                                for a in arms) + ".")
    lower_is_better = [("sharpness_rise", f"loss rise under {c0['radius']:.0%} perturbations", 4),
                       ("hessian_top", "top Hessian eigenvalue", 1),
                       ("noise_common_final", f"final gradient noise at batch {c0['probe_batch']}", 3)]
    for metric, label, digits in lower_is_better + [("val_loss_jitter", "validation-loss jitter", 4)] * jitter:
        w.finding(findings.best_sentence({a: runs.metric(a, metric) for a in arms}, label, digits=digits,
                                         higher_is_better=False))
    init = np.array([runs.metric(a, "noise_common_init") for a in arms])  # arms x seeds, same seed order
    spread = float(np.max(np.ptp(init, axis=0) / np.mean(init, axis=0)))
    w.finding(f"Before training the arms of a seed share their weights: gradient noise at batch {c0['probe_batch']} then "
              + ("is identical in every arm" if spread == 0 else f"differs between arms by at most {spread:.1e} (relative)")
              + ", so the differences after training come from where each batch size took the weights.")
    unconverged = sum(1 for r in runs if r["metrics"].get("hessian_converged") is False)
    if unconverged:
        w.finding(f"Power iteration did not meet its 0.1% tolerance within 30 steps in {unconverged} of {len(runs)} "
                  "runs; those eigenvalues are the last Rayleigh quotient.")
    if arms == [f"batch{b}" for b in BATCHES]:
        _claims(w, runs, arms)

    w.limitation(f"Every arm trains {epochs} epochs, so larger batches take fewer optimizer steps (see steps/epoch) "
                 "with the same learning rate; their accuracy and sharpness mix the batch-size effect with less "
                 "training. The original stopped early (patience 3) instead.")
    w.limitation("Epoch times are wall time on a 2-core CPU shared with other jobs (validation included, probes "
                 "excluded); the fastest epoch after the first is used because contention only ever adds time. They "
                 "are not a GPU timing like the original's 17 / 5 / 1 s.")
    w.limitation("The Hessian eigenvalue depends on the weights' scale (Dinh et al., 2017); the filter-normalized "
                 "perturbation rise is the scale-aware measure. Both use one fixed subset of training images.")
    w.limitation("Gradient noise comes from at most 32 minibatches of fixed images (4 for batch 512) and per-sample "
                 "gradients are heavy-tailed late in training, so it is itself a noisy estimate. The jitter uses "
                 "per-epoch validation loss only (per-step losses are not recorded) and includes the curvature of the "
                 "curve's trend, which is larger for arms that are still descending steeply.")
    if c0["train_size"]:
        w.limitation(f"Trained on the first {c0['train_size']} of the 55k training images ({ctx.profile} profile).")
