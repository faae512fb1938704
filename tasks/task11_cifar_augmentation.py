"""Task11: does random crop + flip close the train-test gap of the seed CIFAR-10 CNN?

Protocol (seeds/004): Conv32-BN-ReLU-Pool, Conv64-BN-ReLU-Pool, Dense 128 ReLU, Dropout, Dense 10;
Adam 1e-3, batch 128, 30 epochs; no augmentation vs RandomCrop(32, padding 4) + horizontal flip.
The original ran on PyTorch, so the main arms use PyTorch's init and BatchNorm settings
(DESIGN.md 6b); a Keras-defaults arm and a dropout sweep (the seed never states its rate) show
how much those unstated settings move the table. Validation = last 5k training images.

    KERAS_BACKEND=tensorflow python -m suite.run task11 --profile quick --seeds 3  # 37 min, busy 2-core CPU
    KERAS_BACKEND=tensorflow python -m suite.run task11     # the full protocol: hours on a CPU, use a GPU
"""

import dataclasses

import numpy as np
import pandas as pd

from suite.report import findings, plots, stats, tables
from suite.training import cifar as cifar_training
from suite.training.cifar import WEIGHTS, Config, protocol
from suite.data.cifar10 import CLASSES
from suite.study.stages import Stage

DATA = ("cifar10",)  # checked before anything runs
ORIGINAL = {"plain": (88.65, 74.18), "crop_flip": (69.11, 76.25)}  # train / test %, seeds/004
HEADLINE = ("test_accuracy", "test accuracy (%)", 100.0)
__all__ = ["Config", "stages", "train", "analyze"]


def _configs(profile):
    base = Config("plain", **protocol(profile))
    arms = [base, dataclasses.replace(base, name="crop_flip", augment=True)]
    if profile.name != "smoke":
        arms += [dataclasses.replace(base, name="plain_keras", conventions="keras"),
                 dataclasses.replace(base, name="plain_drop0", dropout=0.0),
                 dataclasses.replace(base, name="crop_flip_drop0", augment=True, dropout=0.0)]
    return arms


def stages(profile, options):
    return [Stage("main", _configs(profile))]


def train(c, ctx):
    model, out = cifar_training.train(c, ctx.seed, ctx.progress)
    model.save_weights(ctx.artifact_dir / WEIGHTS)  # task12 reaches it through ctx.upstream
    return out


# ---------------------------------------------------------------- analysis

def _label(c):
    return (f"{'crop+flip' if c['augment'] else 'none'}, dropout {c['dropout']:g}, "
            f"{c['conventions']} conventions")


def _main_table(runs, arms):
    t = tables.summary_table(runs, arms, {
        "train acc, running (%)": ("final_train_accuracy", 100, 2),
        "train acc, clean (%)": ("train_accuracy_clean", 100, 2),
        "test acc (%)": ("test_accuracy", 100, 2),
        "test acc, exact imgs (%)": ("test_accuracy_exact", 100, 2),
        "gap running (pts)": ("gap_running", 100, 2),
        "gap clean (pts)": ("gap_clean", 100, 2),
        "s/epoch": ("seconds_per_epoch", 1, 1),
    })
    t.insert(1, "setting", [_label(runs.config(a)) for a in arms])
    return t


def _class_table(runs):
    rows = []
    for name in CLASSES:
        a, b = (runs.metric(arm, f"class_acc_{name}") for arm in ("plain", "crop_flip"))
        c = stats.compare(b, a)
        rows.append({"class": name, "none (%)": stats.summarize(a).fmt(1, 100),
                     "crop+flip (%)": stats.summarize(b).fmt(1, 100), "crop+flip - none": findings.describe(c, 100, "", 1)})
    return pd.DataFrame(rows)


def _confusion_figure(w, runs):
    fig, ax = plots.panels(2, width=5.0, height=4.2)
    for k, (axis, arm) in enumerate(zip(ax, ("plain", "crop_flip"))):
        m = np.mean([np.asarray(r["confusion"], float) for r in runs.of(arm)], axis=0)
        m = m / m.sum(axis=1, keepdims=True) * 100
        axis.imshow(m, cmap="Blues", vmin=0, vmax=100)
        for i in range(len(CLASSES)):
            for j in range(len(CLASSES)):
                axis.text(j, i, f"{m[i, j]:.0f}", ha="center", va="center", fontsize=6,
                          color="white" if m[i, j] > 50 else "black")
        axis.set_xticks(range(10), CLASSES, rotation=90, fontsize=7)
        axis.set_yticks(range(10), CLASSES if k == 0 else [], fontsize=7)
        axis.set_xlabel("predicted")
        if k == 0:
            axis.set_ylabel("true")
        axis.set_title(f"{arm} (% of true class, seed mean)", fontsize=9)
    w.figure(fig, "confusion", "Test confusion matrices, row-normalized, mean over seeds")


def _claims(w, runs, full_protocol):
    p, a = "plain", "crop_flip"
    run_tr = stats.compare(runs.metric(a, "final_train_accuracy"), runs.metric(p, "final_train_accuracy"))
    test = stats.compare(runs.metric(a, "test_accuracy"), runs.metric(p, "test_accuracy"))
    gap = stats.compare(runs.metric(a, "gap_running"), runs.metric(p, "gap_running"))
    w.claim("crop+flip lowers the (running) train accuracy, raises test accuracy and shrinks the gap "
            "(88.65/74.18 -> 69.11/76.25)",
            findings.verdict(run_tr.verdict == "less" and test.verdict == "greater" and gap.verdict == "less",
                             run_tr.verdict == "greater" or test.verdict == "less" or gap.verdict == "greater"),
            f"crop+flip minus none, dropout 0.5, torch conventions: running train accuracy "
            f"{findings.describe(run_tr, 100, ' pts')}, test {findings.describe(test, 100, ' pts')}, running gap "
            f"{findings.describe(gap, 100, ' pts')}. Agrees if all three move reliably in the claimed direction; "
            "disagrees if any moves reliably against it.")
    for arm, (tr, te) in ORIGINAL.items():
        s_tr, s_te = (stats.summarize(runs.metric(arm, k)) for k in ("final_train_accuracy", "test_accuracy_exact"))
        inside = [abs(s.mean * 100 - v) <= s.ci95 * 100 for s, v in ((s_tr, tr), (s_te, te))]
        verdict = findings.verdict(all(inside), not all(inside)) if full_protocol else "inconclusive"
        half = [f"{s.ci95 * 100:.2f}" if s.n > 1 else "n/a" for s in (s_tr, s_te)]
        w.claim(f"{'no augmentation' if arm == 'plain' else 'crop+flip'}: {tr}% train / {te}% test",
                verdict,
                f"measured {s_tr.mean * 100:.2f} ± {half[0]} running train, "
                f"{s_te.mean * 100:.2f} ± {half[1]} test on the exact images (mean ± 95% half-width). "
                "Agrees if both original numbers lie inside the intervals, disagrees otherwise; judged only on the "
                "full protocol (45k images, 30 epochs), else inconclusive.")


def analyze(runs, ctx):
    w = ctx.writeup
    arms = runs.arms()
    c0 = runs.config("plain")
    full_protocol = c0["train_size"] is None and c0["epochs"] >= 30
    w.setup("model", "Conv(3->32, 3x3 same) BN ReLU MaxPool, Conv(32->64) BN ReLU MaxPool, Flatten 4096, Dense 128 "
                     "ReLU, Dropout, Dense 10 softmax; 545,482 parameters; inputs standardized with the CIFAR means")
    w.setup("data", f"CIFAR-10, {runs.of('plain')[0]['data']}; validation = last 5k training images")
    w.setup("training", f"Adam {c0['lr']:g}, batch {c0['batch_size']}, {c0['epochs']} epochs"
                        + ("" if full_protocol else " (the seed protocol: 30 epochs on all 50k; the full profile: 30 on 45k)"))
    w.setup("augmentation", "crop+flip arms: 4-px zero padding, random 32x32 crop, horizontal flip with p=0.5, "
                            "fresh each epoch (NumPy, training batches only)")
    w.setup("conventions", "torch: kaiming_uniform(a=sqrt 5) weights and biases, BatchNorm momentum 0.9 (Keras "
                           "terms), epsilon 1e-5; keras: glorot_uniform, zero biases, momentum 0.99, epsilon 1e-3")
    w.setup("accuracies", "running = mean over the last epoch's training batches (augmented, dropout on), as the "
                          "original measured; clean = all training images, unaugmented, inference mode; "
                          "exact imgs = the test images of the offline copy that are lossless")
    w.table(_main_table(runs, arms), "Every arm (mean ± std over seeds)")
    orig = pd.DataFrame([{"arm": a, "original train (%)": tr, "original test (%)": te, "original gap": round(tr - te, 2),
                          "measured running train (%)": stats.summarize(runs.metric(a, "final_train_accuracy")).fmt(2, 100),
                          "measured test, exact imgs (%)": stats.summarize(runs.metric(a, "test_accuracy_exact")).fmt(2, 100),
                          "measured running gap": stats.summarize(runs.metric(a, "gap_running")).fmt(2, 100)}
                         for a, (tr, te) in ORIGINAL.items()])
    w.table(orig, "The original table against the main arms (dropout 0.5, torch conventions)")
    w.table(_class_table(runs), "Per-class test accuracy (mean ± std over seeds; difference ± 95% half-width)")

    fig, ax = plots.panels(3)
    plots.curves(ax[0], runs, arms, "clean_train_accuracy", "clean train accuracy (%)", scale=100)
    plots.curves(ax[1], runs, arms, "val_accuracy", "validation accuracy (%)", scale=100)
    for arm in arms:
        gap = (runs.history(arm, "clean_train_accuracy") - runs.history(arm, "val_accuracy")) * 100
        ax[2].plot(np.arange(1, gap.shape[1] + 1), np.nanmean(gap, axis=0), label=arm)
    ax[2].set(xlabel="epoch", ylabel="clean train - validation (pts)")
    ax[2].grid(alpha=0.3)
    ax[0].legend(fontsize=7)
    probe = min(cifar_training.CLEAN_TRAIN_PROBE, c0["train_size"] or 45000)
    w.figure(fig, "curves", f"Clean training accuracy (first {probe} training images, unaugmented, inference mode), "
                            "validation accuracy and their gap per epoch (seed mean; bands: min-max over seeds)")
    _confusion_figure(w, runs)

    acc = {a: runs.metric(a, "test_accuracy") for a in arms}
    w.finding(findings.best_sentence(acc, "test accuracy (full test set)", "%", diff_unit=" pts", scale=100))
    w.finding(findings.best_sentence({a: runs.metric(a, "gap_clean") for a in arms},
                                     "clean train-test gap", " pts", scale=100, higher_is_better=False))
    rec = stats.summarize(np.concatenate([runs.metric(a, "test_accuracy_exact") - runs.metric(a, "test_accuracy_recovered")
                                          for a in arms]))
    if np.isfinite(rec.mean):
        w.finding(f"The exact 1,000 test images score {rec.mean * 100:+.2f} ± {rec.std * 100:.2f} pts against the "
                  f"JPEG-recovered 9,000 (mean ± std over all {rec.n} runs).")
    conv = stats.compare(acc["plain"], acc["plain_keras"]) if "plain_keras" in acc else None
    if conv:
        w.finding(f"Torch conventions minus Keras defaults (no augmentation): test accuracy "
                  f"{findings.describe(conv, 100, ' pts')}; clean train accuracy "
                  f"{findings.describe(stats.compare(*(runs.metric(a, 'train_accuracy_clean') for a in ('plain', 'plain_keras'))), 100, ' pts')}.")
    for aug in ("plain", "crop_flip"):
        if f"{aug}_drop0" in acc:
            d = [stats.compare(runs.metric(aug, k), runs.metric(f"{aug}_drop0", k))
                 for k in ("final_train_accuracy", "test_accuracy")]
            w.finding(f"Dropout 0.5 minus 0 ({aug}): running train accuracy {findings.describe(d[0], 100, ' pts')}, "
                      f"test accuracy {findings.describe(d[1], 100, ' pts')}.")
    late = {a: runs.history(a, "clean_train_accuracy") for a in arms}
    if all(h.shape[1] > 2 for h in late.values()):
        w.finding(f"Clean training accuracy gained over the last 2 of {c0['epochs']} epochs (pts, mean ± std; "
                  "positive = still learning when training stopped): "
                  + ", ".join(f"{a} {stats.summarize(h[:, -1] - h[:, -3]).fmt(1, 100)}" for a, h in late.items()) + ".")
    for orig_arm, (tr, te) in ORIGINAL.items():
        dist = {a: float(np.hypot(stats.summarize(runs.metric(a, "final_train_accuracy")).mean * 100 - tr,
                                  stats.summarize(runs.metric(a, "test_accuracy_exact")).mean * 100 - te)) for a in arms}
        near = min(dist, key=dist.get)
        w.finding(f"Nearest arm to the original {orig_arm} row ({tr}/{te}, running train / exact test): **{near}** "
                  f"({dist[near]:.1f} pts away; " + ", ".join(f"{a} {d:.1f}" for a, d in dist.items() if a != near) + ").")
    if "crop_flip_drop0" in acc:
        d = [stats.compare(runs.metric("crop_flip_drop0", k), runs.metric("plain_drop0", k))
             for k in ("final_train_accuracy", "test_accuracy", "gap_running")]
        w.finding("Without dropout, crop+flip minus none: running train accuracy "
                  f"{findings.describe(d[0], 100, ' pts')}, test accuracy {findings.describe(d[1], 100, ' pts')}, "
                  f"running gap {findings.describe(d[2], 100, ' pts')}.")
    gains = [(n, stats.compare(runs.metric("crop_flip", f"class_acc_{n}"), runs.metric("plain", f"class_acc_{n}")))
             for n in CLASSES]
    up = [f"{n} ({c.diff * 100:+.1f})" for n, c in gains if c.verdict == "greater"]
    down = [f"{n} ({c.diff * 100:+.1f})" for n, c in gains if c.verdict == "less"]
    w.finding("Classes reliably better with crop+flip: " + (", ".join(up) or "none")
              + "; reliably worse: " + (", ".join(down) or "none") + " (pts).")
    _claims(w, runs, full_protocol)

    if not full_protocol:
        w.limitation(f"Not the original protocol: {c0['train_size'] or 'all'} training images and {c0['epochs']} "
                     f"epochs ({ctx.profile} profile), so absolute accuracies sit below a 30-epoch, 45k-image run; "
                     "the original's numbers are compared, not judged.")
    w.limitation("The original trained on all 50k images (no validation split) and states neither its dropout rate, "
                 "kernel size nor input normalization; here 3x3 kernels, CIFAR-mean standardization and dropout 0.5 "
                 "(with a 0 arm) are assumptions.")
    w.limitation("Seconds per epoch were measured on a 2-core CPU shared with other jobs, whose load varied during "
                 "the run; they are not a fair speed comparison between arms (augmentation itself measured a tie "
                 "within noise, see suite/data/augment.py).")
    n = int(runs.metric("plain", "test_exact_images")[0])
    p = stats.summarize(runs.metric("plain", "test_accuracy_exact")).mean
    w.limitation(f"The offline test copy is exact only for its first 1,000 images; the original table is compared on "
                 f"the {n} exact ones here, whose binomial sampling error alone is about ±{100 * np.sqrt(p * (1 - p) / n):.1f} "
                 "pts (one standard error) per model.")
