"""The cross-backend table: the same study on TensorFlow, JAX and PyTorch, side by side."""

import math

import numpy as np
import pandas as pd

from suite.report import stats


def _config_differences(configs):
    keys = sorted({k for c in configs.values() for k in c})
    diffs = []
    for k in keys:
        values = {b: c.get(k) for b, c in configs.items()}
        if len({repr(v) for v in values.values()}) > 1:
            diffs.append(f"{k}: " + " / ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values.values()))
    return "; ".join(diffs) or "same"


def cross_backend(runs_by_backend, metric="test_accuracy", label="test accuracy (%)", scale=100.0):
    """One row per arm: the metric (mean ± std over seeds) and seconds per epoch (where any) on each backend,
    whether each backend agrees with the first one within the seed spread (`suite.report.stats.RULE`),
    and which config values differ between backends (e.g. a learning rate each one selected).

    Args:
        runs_by_backend: `{backend: Runs}` of the main stage, the reference backend first.
        metric: key in each record's `metrics`. Defaults to `"test_accuracy"`.
        label: column label for the metric. Defaults to `"test accuracy (%)"`.
        scale: display multiplier. Defaults to `100.0`.
    """
    backends = list(runs_by_backend)
    reference = backends[0]
    arms = [a for a in runs_by_backend[reference].arms() if all(a in r.arms() for r in runs_by_backend.values())]
    rows = []
    for arm in arms:
        row = {"arm": arm}
        # unpaired: the same seed draws other initial weights on each backend
        ref_values = np.asarray(runs_by_backend[reference].metric(arm, metric))
        for b in backends:
            runs = runs_by_backend[b]
            row[f"{b}: {label}"] = stats.summarize(runs.metric(arm, metric)).fmt(2, scale)
            seconds = runs.metric(arm, "seconds_per_epoch") if runs.has_metric(arm, "seconds_per_epoch") else [math.nan]
            row[f"{b}: s/epoch"] = f"{stats.summarize(seconds).mean:.2f}"
        for b in backends[1:]:
            c = stats.compare(np.asarray(runs_by_backend[b].metric(arm, metric)), ref_values)
            if min(len(ref_values), len(runs_by_backend[b].metric(arm, metric))) < 2:
                row[f"{b} vs {reference}"] = "n/a (1 seed)"
            else:
                row[f"{b} vs {reference}"] = ("within spread" if not c.conclusive else
                                              f"differ ({c.diff * scale:+.2f} ± {c.half_width * scale:.2f})")
        row["config differences"] = _config_differences({b: r.config(arm) for b, r in runs_by_backend.items()})
        rows.append(row)
    table = pd.DataFrame(rows)
    untimed = [c for c in table.columns if c.endswith("s/epoch") and (table[c] == "nan").all()]
    return table.drop(columns=untimed)  # tasks that train no epochs (e.g. gradient checks)
