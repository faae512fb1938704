"""Reading and drawing probe histories stored in runs (`record["probes"][name]`, see `suite.probes`).

Probe histories have one point per probed epoch, starting with epoch 0 (before training), and
per-point lists with one entry per variable or layer. These helpers pull one such column across
seeds and draw it the way `suite.report.plots` draws epoch curves: the seed mean as a line and the
min..max over seeds as a band.
"""

import numpy as np

from suite.report import plots


def column(history, key, name, names_key="variables"):
    """Per-point values of `history[key]` for the variable or layer called `name`.

    Example:
        >>> column({"variables": ["a", "b"], "norm": [[1, 2], [3, 4]]}, "norm", "b")
        [2, 4]
    """
    names = history[names_key]
    if name not in names:
        raise KeyError(f"{name!r} is not among the probe's {names_key} {names}")
    i = names.index(name)
    return [point[i] for point in history[key]]


def series(runs, arm, probe, key, name=None, names_key="variables", reduce=None):
    """`(epochs, values)`: the probe's epochs and a seeds x points array for one arm.

    Args:
        runs: `suite.study.results.Runs`.
        arm: the arm.
        probe: the probe's name in `record["probes"]`.
        key: the history key (e.g. `"norm"`).
        name: the variable or layer (e.g. `"hidden1/kernel"`); `None` for a key with one
            number per point (e.g. `"loss"`).
        names_key: the history key listing the names. Defaults to `"variables"`.
        reduce: applied to each point's per-variable list instead of picking `name` (e.g. `sum`).
    """
    records = runs.of(arm)
    rows = []
    for r in records:
        h = r["probes"][probe]
        if reduce is not None:
            rows.append([reduce(p) for p in h[key]])
        elif name is not None:
            rows.append(column(h, key, name, names_key))
        else:
            rows.append(list(h[key]))
    width = max(len(row) for row in rows)
    out = np.full((len(rows), width), np.nan)
    for i, row in enumerate(rows):
        out[i, : len(row)] = np.array(row, dtype=float)
    longest = max(records, key=lambda r: len(r["probes"][probe]["epoch"]))
    return np.array(longest["probes"][probe]["epoch"], dtype=float), out


def curves(ax, runs, arms, probe, key, ylabel, name=None, names_key="variables", reduce=None, scale=1.0, log=False):
    """A probe column over epochs for each arm: seed mean (line) and min..max (band)."""
    for arm in arms:
        epochs, v = series(runs, arm, probe, key, name, names_key, reduce)
        plots.band(ax, epochs, v * scale, arm)
    plots.epoch_axis(ax, ylabel, log)


def histogram(ax, runs, arm, probe, name, point=-1, label=None, **style):
    """The weight probe's histogram of `name` at one point (default: the last), summed over seeds, as a density."""
    counts, edges = [], None
    for r in runs.of(arm):
        h = r["probes"][probe]
        counts.append(np.array(column(h, "hist", name)[point], dtype=float))
        edges = np.array(h["bins"], dtype=float)
    total = np.sum(counts, axis=0)
    density = total / max(total.sum(), 1) / np.diff(edges)
    ax.stairs(density, edges, label=label or arm, **style)
    ax.set_xlabel(f"{name} value")
    ax.set_ylabel("density")
    ax.grid(alpha=0.3)


def histograms(ax, runs, arms, probe, name):
    """Initial (dashed: the first arm's epoch 0) and final histogram of `name` for each arm, log density."""
    histogram(ax, runs, arms[0], probe, name, point=0, label="initial", color="black", ls="--")
    for arm in arms:
        histogram(ax, runs, arm, probe, name)
    ax.set_yscale("log")
    ax.legend(fontsize=8)
