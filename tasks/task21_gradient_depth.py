"""Task21: how do per-layer gradient norms change with depth, initialization, activation and optimizer?

The seeds/000 protocol (PyTorch, MNIST): pixels in [0, 1], all 60k training images, the 10k test
set evaluated every epoch (no validation split), MLPs of width 256 with d hidden layers, Adam
1e-3, batch 128, 15 epochs. Grid: depth 2 / 4 / 8 / 16 x init (PyTorch default, Glorot, He,
orthogonal) x activation (ReLU; tanh as a contrast). At depth 8 (He, ReLU) SGD, SGD + momentum
0.9 and Adam at the original's shared rate 1e-3, and each at its own rate chosen on a 55k/5k
validation split.

Two measures of the gradient: the original's, the L2 norm of each parameter tensor's gradient on
the training minibatch of every optimizer step (recorded inside the compiled step,
`suite.probes.StepGradientNorms`; per epoch its mean and variance), and the suite's probe-set
gradient (`GradientProbe`: 8 fixed minibatches of 128 training images, before training and
after every epoch). Attenuation = first-layer kernel norm / classifier kernel norm.

    KERAS_BACKEND=jax python -m suite.run task21 --profile quick   # ~25 min on a 2-core CPU
"""

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from suite.data import mnist
from suite.models import inits
from suite.models.mlp import mlp
from suite.probes import GradientProbe, StepGradientNorms
from suite.report import findings, plots, probeplots, stats, tables
from suite.study.stages import Stage
from suite.training import optimizers
from suite.training.fit import fit_classifier

DATA = ("mnist",)  # checked before anything runs
DEPTHS = (2, 4, 8, 16)
ACTIVATIONS = ("relu", "tanh")
OPTIMIZERS = ("sgd", "momentum", "adam")
LR_GRID = {"sgd": (0.01, 0.03, 0.1, 0.3), "momentum": (0.001, 0.003, 0.01, 0.03), "adam": (1e-4, 3e-4, 1e-3, 3e-3)}
SHARED_LR = 1e-3  # the original ran all three optimizers at this rate
FIRST, LAST = "hidden1/kernel", "logits/kernel"
POINTS = 600  # at most this many per-step points of the first and last kernels are stored per run
ORIGINAL_FIRST_NORM = (1.06, 0.41)  # depth 8, clean labels: first-layer gradient norm, epoch 1 -> 15 (its figure)


@dataclass(frozen=True)
class Config:
    name: str
    depth: int
    epochs: int
    train_size: int | None
    init: str = "he"
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = SHARED_LR
    validation: bool = False  # train on 55k and validate on the last 5k (learning-rate selection only)
    width: int = 256
    batch_size: int = 128
    probe_size: int = 1024  # first training images, for the probe-set gradient


def _base(profile):
    return dict(epochs=profile.epochs_or(smoke=2, quick=15, full=15),
                train_size=profile.subset_or(smoke=2048, quick=12800, full=None))


def _grid(profile):
    depths = profile.pick(smoke=(2, 8, 16), quick=DEPTHS, full=DEPTHS)
    schemes = profile.pick(smoke=("glorot", "he"), quick=inits.INITS, full=inits.INITS)
    return [Config(f"d{d}_{i}_{a}", d, init=i, activation=a, **_base(profile))
            for a in ACTIVATIONS for i in schemes for d in depths]


def _select_arms(profile):
    pick = profile.pick(smoke=slice(2, 3), quick=slice(None), full=slice(None))
    return [Config(f"{opt}_lr{lr:g}", 8, optimizer=opt, lr=lr, validation=True, **_base(profile))
            for opt, lrs in LR_GRID.items() for lr in lrs[pick]]


def chosen_lr(selection, optimizer):
    """The grid rate with the highest final validation accuracy (diverged runs never win)."""
    scores = {r["config"]["lr"]: r["metrics"].get("final_val_accuracy", np.nan) for r in selection.where(optimizer=optimizer)}
    finite = {lr: v for lr, v in scores.items() if np.isfinite(v)}
    return max(finite, key=finite.get) if finite else min(scores)


def _optimizer_arms(profile, selection):
    shared = [Config(f"{opt}_lr{SHARED_LR:g}", 8, optimizer=opt, **_base(profile)) for opt in OPTIMIZERS if opt != "adam"]
    tuned = [Config(f"{opt}_tuned", 8, optimizer=opt, lr=chosen_lr(selection, opt), **_base(profile)) for opt in OPTIMIZERS]
    return shared + tuned


def stages(profile, options):
    """The optimizers at depth 8 (each one's rate chosen on one seed, then the shared and chosen
    rates with every seed), then the depth x init x activation grid (Adam 1e-3), the final stage."""
    return [Stage("select", _select_arms(profile), seeds="one"),
            Stage("optimizers", lambda done: _optimizer_arms(profile, done["select"]), needs=("select",)),
            Stage("main", _grid(profile))]


def train(c, ctx):
    data = mnist.splits(c.train_size) if c.validation else mnist.train_test(c.train_size)
    model = mlp(hidden=(c.width,) * c.depth, activation=c.activation, init=c.init)
    steps = math.ceil(len(data.x_train) / c.batch_size)
    per_step = StepGradientNorms(steps, keep=(FIRST, LAST), thin=max(1, math.ceil(steps * c.epochs / POINTS)))
    probe = GradientProbe(data.x_train[:c.probe_size], data.y_train[:c.probe_size], batch_size=128)
    out = fit_classifier(model, data, per_step.wrap(optimizers.make(c.optimizer, c.lr)), c.epochs, c.batch_size,
                         callbacks=[per_step, probe], progress=ctx.progress)
    if out["status"] != "ok":
        return out
    h = per_step.history
    first, last = (np.array(probeplots.column(h, "mean", v)) for v in (FIRST, LAST))
    first_var = np.array(probeplots.column(h, "var", FIRST))
    p_first, p_last = (np.array(probeplots.column(probe.history, "norm", v)) for v in (FIRST, LAST))
    out["history"].update(grad_first=first.tolist(), grad_last=last.tolist(), grad_ratio=(first / last).tolist(),
                          grad_first_var=first_var.tolist())
    out["metrics"].update(
        grad_first_epoch1=first[0], grad_first_final=first[-1], grad_last_epoch1=last[0],
        grad_ratio_epoch1=first[0] / last[0], grad_ratio_final=first[-1] / last[-1],
        grad_first_var_epoch1=first_var[0], grad_first_cv_epoch1=math.sqrt(first_var[0]) / first[0],
        grad_first_fall=first[-1] / first[0], probe_first_init=p_first[0], probe_ratio_init=p_first[0] / p_last[0],
        probe_ratio_final=p_first[-1] / p_last[-1], per_step_seconds=per_step.seconds, probe_seconds=probe.seconds)
    out["probes"] = {"step_gradients": h, "gradients": probe.history}
    out["data"] = data.sizes()
    return out


# ---------------------------------------------------------------- analysis

def _arm(depth, init="he", activation="relu"):
    return f"d{depth}_{init}_{activation}"


def _grid_table(runs, arms):
    return tables.summary_table(runs, arms, {
        "test acc (%)": ("test_accuracy", 100, 2),
        "first/last at init (probe)": ("probe_ratio_init", 1, 3),
        "first/last epoch 1": ("grad_ratio_epoch1", 1, 3),
        "first/last last epoch": ("grad_ratio_final", 1, 3),
        "first-layer norm epoch 1": ("grad_first_epoch1", 1, 3),
        "first-layer norm last epoch": ("grad_first_final", 1, 3),
        "first-layer norm var epoch 1": ("grad_first_var_epoch1", 1, 4),
    }, arm_label="arm", config_keys=("depth", "init", "activation"))


def _optimizer_table(runs, arms):
    return tables.summary_table(runs, arms, {
        "test acc (%)": ("test_accuracy", 100, 2),
        "first/last epoch 1": ("grad_ratio_epoch1", 1, 3),
        "first/last last epoch": ("grad_ratio_final", 1, 3),
        "first-layer norm epoch 1": ("grad_first_epoch1", 1, 4),
        "first-layer norm last epoch": ("grad_first_final", 1, 4),
    }, arm_label="arm", config_keys=("optimizer", "lr"))


def _selection_table(selection):
    rows = [{"optimizer": r["config"]["optimizer"], "lr": r["config"]["lr"],
             "final val acc (%)": 100 * r["metrics"].get("final_val_accuracy", np.nan), "status": r["status"],
             "chosen": "yes" if r["config"]["lr"] == chosen_lr(selection, r["config"]["optimizer"]) else ""}
            for r in selection]
    return pd.DataFrame(rows)


def _step_figure(w, runs, depths):
    fig, ax = plots.panels(2)
    for name, axis, label in ((FIRST, ax[0], "first-layer kernel"), (LAST, ax[1], "classifier kernel")):
        for d in depths:
            rows = [r["probes"]["step_gradients"] for r in runs.of(_arm(d))]
            width = min(len(h["step"]) for h in rows)
            values = np.array([h["steps"][name][:width] for h in rows])
            steps_per_epoch = math.ceil(rows[0]["step"][-1] / len(rows[0]["epoch"]))
            plots.band(axis, np.array(rows[0]["step"][:width]) / steps_per_epoch, values, f"depth {d}", lw=0.8)
        plots.epoch_axis(axis, f"{label} gradient norm (minibatch)", log=True)
    ax[0].legend(fontsize=8)
    w.figure(fig, "step_norms", "Gradient norm of the first-layer and classifier kernels on each training minibatch "
                                "(He init, ReLU, Adam 1e-3), x = step / steps per epoch: seed mean (line), min-max (band)")


def _attenuation_figure(w, runs, depths):
    fig, ax = plots.panels(2)
    plots.curves(ax[0], runs, [_arm(d) for d in depths], "grad_ratio", "first / classifier kernel gradient norm", log=True)
    plots.curves(ax[1], runs, [_arm(d) for d in depths], "val_accuracy", "test accuracy (%)", scale=100)
    ax[0].legend(fontsize=8)
    w.figure(fig, "attenuation", "Left: per-epoch mean of the per-step norm ratio first-layer / classifier kernel "
                                 "(He, ReLU, Adam 1e-3). Right: test accuracy per epoch, same runs")


def _init_figure(w, runs, depths, schemes):
    fig, ax = plots.panels(len(ACTIVATIONS))
    for axis, act in zip(ax, ACTIVATIONS):
        for scheme in schemes:
            arms = [_arm(d, scheme, act) for d in depths]
            values = np.array([runs.metric(a, "probe_ratio_init") for a in arms]).T  # seeds x depths
            plots.band(axis, np.array(depths), values, inits.LABELS[scheme], marker="o")
        axis.set(xscale="log", yscale="log", xlabel="hidden layers", ylabel="first / classifier gradient norm at init",
                 title=act)
        axis.set_xticks(depths, [str(d) for d in depths])
        axis.grid(alpha=0.3)
    ax[0].legend(fontsize=8)
    w.figure(fig, "init_depth", "Gradient attenuation before training (probe set: 8 minibatches of 128 training "
                                "images): first-layer over classifier kernel gradient norm vs depth, per init")


def _layer_figure(w, runs, depth, schemes):
    fig, ax = plots.panels(len(ACTIVATIONS))
    for axis, act in zip(ax, ACTIVATIONS):
        for scheme in schemes:
            records = runs.of(_arm(depth, scheme, act))
            kernels = [v for v in records[0]["probes"]["gradients"]["variables"] if v.endswith("/kernel")]
            values = np.array([[probeplots.column(r["probes"]["gradients"], "norm", v)[0] for v in kernels]
                               for r in records])
            plots.band(axis, np.arange(1, len(kernels) + 1), values, inits.LABELS[scheme], marker=".")
        axis.set(yscale="log", xlabel="layer (last = classifier)", ylabel="kernel gradient norm at init", title=act)
        axis.grid(alpha=0.3)
    ax[0].legend(fontsize=8)
    w.figure(fig, "layers", f"Depth {depth} before training: each layer's kernel gradient norm on the probe set, "
                            "per init (seed mean and min-max)")


def _claims(w, runs, depths):
    ratio = {d: runs.metric(_arm(d), "grad_ratio_epoch1") for d in depths}
    acc = {d: runs.metric(_arm(d), "test_accuracy") for d in depths}
    deeper = stats.holm([stats.compare(ratio[d], ratio[2]) for d in depths if d > 2])
    acc_cmp = stats.compare(acc[8], acc[2])
    attenuated = all(c.verdict == "less" for c in deeper)
    w.claim("deeper networks exhibit early gradient attenuation, revealing trainability limits that are not reflected "
            "in accuracy alone",
            findings.verdict(attenuated and acc_cmp.verdict != "less",
                             any(c.verdict == "greater" for c in deeper) or acc_cmp.verdict == "less"),
            "at the original's setting (He init, ReLU, Adam 1e-3, batch 128, depths 2 / 4 / 8), epoch-1 mean of the "
            "per-step first-layer / classifier kernel gradient-norm ratio, "
            + ", ".join(f"depth {d} minus depth 2 {findings.describe(c, digits=3)}" for d, c in zip(depths[1:], deeper))
            + f"; test accuracy, depth 8 minus depth 2: {findings.describe(acc_cmp, 100, ' pts')}. Agrees if every "
            "deeper net's ratio is reliably below depth 2's while depth 8's accuracy is not reliably below depth 2's; "
            "disagrees if any deeper ratio is reliably above, or depth 8's accuracy reliably below.")

    arm = _arm(8)
    c = runs.config(arm)
    first, final = runs.metric(arm, "grad_first_epoch1"), runs.metric(arm, "grad_first_final")
    fall = stats.compare(final, first)
    setting = ("at the original's setting" if c["epochs"] == 15 and c["train_size"] is None else
               f"NOT at the original's setting ({c['train_size']} images, {c['epochs']} epochs)")
    w.claim(f"its figure: first-layer gradient norm from about {ORIGINAL_FIRST_NORM[0]} to {ORIGINAL_FIRST_NORM[1]} "
            "over 15 epochs at depth 8",
            findings.verdict(fall.verdict == "less", fall.verdict == "greater"),
            f"{setting}, He init: epoch-mean of the per-step first-layer kernel norm "
            f"{stats.summarize(first).fmt(3)} in epoch 1 and {stats.summarize(final).fmt(3)} in epoch {c['epochs']} "
            f"(ratio {stats.summarize(runs.metric(arm, 'grad_first_fall')).fmt(2)}; the figure's "
            f"{ORIGINAL_FIRST_NORM[1] / ORIGINAL_FIRST_NORM[0]:.2f}); last minus first {findings.describe(fall, digits=3)}. "
            "Agrees if the norm falls reliably; the magnitudes depend on the loss's scale and are compared, not judged.")


def _init_findings(w, runs, depths, schemes):
    at8 = {inits.LABELS[s]: runs.metric(_arm(8, s), "grad_first_epoch1") for s in schemes}
    w.finding(findings.best_sentence(at8, "first-layer gradient norm in epoch 1 at depth 8 (ReLU, per-step mean)",
                                     digits=3))
    cv = {inits.LABELS[s]: runs.metric(_arm(8, s), "grad_first_cv_epoch1") for s in schemes}
    w.finding(findings.best_sentence(cv, "epoch-1 coefficient of variation of the per-step first-layer norm at depth 8 "
                                         "(ReLU; the steadiest start)", digits=3, higher_is_better=False))
    deepest = max(depths)
    for scheme, act in (("glorot", "relu"), ("glorot", "tanh"), ("he", "relu")):
        if scheme in schemes:
            deep, shallow = (runs.metric(_arm(d, scheme, act), "probe_first_init") for d in (deepest, 2))
            w.finding(f"{inits.LABELS[scheme]} + {act} before training: first-layer gradient norm (probe set) "
                      f"{stats.summarize(deep).fmt(4)} at depth {deepest} vs {stats.summarize(shallow).fmt(4)} at "
                      f"depth 2; depth {deepest} minus depth 2 {findings.describe(stats.compare(deep, shallow), digits=4)}.")
    acc = {a: runs.metric(a, "test_accuracy") for a in runs.arms()}
    w.finding(findings.best_sentence(acc, "test accuracy over the whole grid", "%", scale=100, diff_unit=" pts"))


def _optimizer_findings(w, opt_runs):
    shared = {o: (f"{o}_lr{SHARED_LR:g}" if o != "adam" else None) for o in OPTIMIZERS}
    arms = [a for a in shared.values() if a] + [f"{o}_tuned" for o in OPTIMIZERS]
    acc = {a: opt_runs.metric(a, "test_accuracy") for a in arms}
    w.finding(findings.best_sentence(acc, "test accuracy at depth 8 among the optimizer arms (Adam 1e-3 is the grid's "
                                          "d8_he_relu)", "%", scale=100, diff_unit=" pts"))
    ratio = {a: opt_runs.metric(a, "grad_ratio_epoch1") for a in arms}
    w.finding(findings.best_sentence(ratio, "epoch-1 first/classifier gradient ratio among the optimizer arms",
                                     digits=3))


def analyze(runs, ctx):
    w = ctx.writeup
    depths = sorted({runs.config(a)["depth"] for a in runs.arms()})
    schemes = [s for s in inits.INITS if _arm(depths[0], s) in runs.arms()]
    c0 = runs.config(_arm(depths[0], schemes[0]))
    w.setup("model", f"MLP 784 - d x {c0['width']} (Dense + activation) - 10 softmax, d in {', '.join(map(str, depths))}; "
                     "inits: " + ", ".join(inits.LABELS[s] for s in schemes) + " (zero biases except PyTorch's default)")
    w.setup("data", f"MNIST, {runs.of(runs.arms()[0])[0]['data']}: the test set is evaluated every epoch (no "
                    "validation split, as in the original)")
    w.setup("training", f"Adam {SHARED_LR:g} unless stated, batch {c0['batch_size']}, {c0['epochs']} epochs")
    w.setup("gradient measures", "per step: L2 norm of each parameter tensor's gradient on its training minibatch, "
                                 "recorded inside the compiled train step (epoch mean and variance stored); probe set: "
                                 "8 fixed minibatches of 128 training images, before training and after each epoch")
    grid = [a for a in (_arm(d, i, act) for act in ACTIVATIONS for i in schemes for d in depths) if a in runs.arms()]
    w.table(_grid_table(runs, grid), "Depth x init x activation (Adam 1e-3; mean ± std over seeds); "
            "first/last = first-layer over classifier kernel gradient norm")
    he = _arm(depths[0]) in runs.arms()
    if he:
        _step_figure(w, runs, depths)
        _attenuation_figure(w, runs, depths)
    _init_figure(w, runs, depths, schemes)
    _layer_figure(w, runs, max(depths), schemes)

    opt_runs, selection = ctx.runs("optimizers"), ctx.runs("select")
    if len(opt_runs):
        if len(selection):
            w.table(_selection_table(selection), "Learning-rate selection at depth 8 (He, ReLU; 55k/5k validation "
                    "split, one seed)", section="setup", floatfmt=".4g")
        w.table(_optimizer_table(opt_runs, opt_runs.arms()), "Optimizers at depth 8 (He, ReLU): the original's shared "
                "rate 1e-3 and each one's chosen rate")
        fig, ax = plots.panels(2)
        plots.curves(ax[0], opt_runs, opt_runs.arms(), "grad_first", "first-layer gradient norm (epoch mean)", log=True)
        plots.curves(ax[1], opt_runs, opt_runs.arms(), "val_accuracy", "test accuracy (%)", scale=100)
        ax[0].legend(fontsize=8)
        w.figure(fig, "optimizers", "Depth 8 (He, ReLU): first-layer gradient norm and test accuracy per epoch")
        _optimizer_findings(w, opt_runs)

    _init_findings(w, runs, depths, schemes)
    if he and {2, 4, 8} <= set(depths):
        _claims(w, runs, [d for d in depths if d <= 8])

    w.limitation("The original set one seed (42) for one run per configuration; ours are seeded per run, "
                 "so seed-to-seed spread is measured, but its numbers are single runs.")
    w.limitation("As in the original, the test set is evaluated every epoch; nothing is selected on it (the "
                 "optimizers' rates are chosen on a validation split carved from the training set).")
    w.limitation("Orthogonal init uses gain 1 (PyTorch's default for orthogonal_); the original's notes do not give "
                 "its gain.")
    if c0["train_size"]:
        w.limitation(f"Trained on the first {c0['train_size']} of the 60k training images ({ctx.profile} profile); "
                     "the full profile uses all of them.")
