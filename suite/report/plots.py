"""Figures every study draws the same way: curves with seed bands, and per-arm bars with seeds."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def panels(n, width=4.2, height=3.2):
    """A row of `n` axes."""
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, axes[0]


def band(ax, x, values, label, **style):
    """Seed mean of `values` (seeds x points, NaN-padded) as a line, min..max over seeds as a band.

    `style` goes to the line (e.g. `marker="o"`)."""
    with np.errstate(all="ignore"):
        (line,) = ax.plot(x, np.nanmean(values, axis=0), label=label, **{"lw": 1.6, **style})
    if values.shape[0] > 1:
        ax.fill_between(x, np.nanmin(values, axis=0), np.nanmax(values, axis=0), color=line.get_color(), alpha=0.18)


def epoch_axis(ax, ylabel, log=False):
    """Label an axes whose x is the epoch."""
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)


def curves(ax, runs, arms, key, ylabel, scale=1.0, log=False):
    """Per-epoch `history[key]` of each arm: the seed mean as a line, min..max over seeds as a band."""
    for arm in arms:
        h = runs.history(arm, key) * scale
        if h.size:
            band(ax, np.arange(1, h.shape[1] + 1), h, arm)
    epoch_axis(ax, ylabel, log)


def bars(ax, runs, arms, metric, ylabel, scale=1.0):
    """Seed mean of `metrics[metric]` per arm as a bar with a std error bar, each seed as a dot."""
    for i, arm in enumerate(arms):
        v = runs.metric(arm, metric) * scale
        v = v[np.isfinite(v)]
        if len(v) == 0:
            ax.text(i, 0, "diverged", ha="center", va="bottom", rotation=90)
            continue
        ax.bar(i, v.mean(), yerr=v.std(ddof=1) if len(v) > 1 else 0, color="C%d" % i, alpha=0.7, capsize=4)
        ax.scatter(np.full(len(v), i), v, color="black", s=10, zorder=3)
    ax.set_xticks(range(len(arms)), arms, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)


def zoom_to_data(ax, runs, arms, metric, scale=1.0, pad=0.5):
    """Set the y-range of a bar chart to the seeds' values (bars of 97-98% read better zoomed)."""
    v = np.concatenate([runs.metric(a, metric) * scale for a in arms])
    v = v[np.isfinite(v)]
    if len(v):
        ax.set_ylim(v.min() - pad, v.max() + pad)
