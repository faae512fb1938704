"""Per-arm summary tables: one row per arm, each column a metric summarized over seeds."""

import pandas as pd

from suite.report import findings, stats


def summary_table(runs, arms, columns, arm_label="arm", config_keys=()):
    """A DataFrame with one row per arm.

    Args:
        runs: `suite.study.results.Runs`.
        arms: arm names, in display order.
        columns: `{label: (metric, scale, digits)}`; each cell is `mean ± std` over seeds of
            `metrics[metric] * scale`. A metric given as `(metric, scale, digits, censor)` has
            NaN ("never reached") replaced by `censor` first.
        arm_label: header of the arm column. Defaults to `"arm"`.
        config_keys: config fields to show after the arm name.

    Example:
        >>> summary_table(runs, ["adam"], {"test acc (%)": ("test_accuracy", 100, 2)})  # doctest: +SKIP
    """
    rows = []
    for arm in arms:
        row = {arm_label: arm, **{k: runs.config(arm)[k] for k in config_keys}}
        for label, spec in columns.items():
            metric, scale, digits = spec[:3]
            values = runs.metric(arm, metric)
            if len(spec) > 3:
                values = findings.censored(values, spec[3])
            row[label] = stats.summarize(values).fmt(digits, scale)
        rows.append(row)
    return pd.DataFrame(rows)


def ci_column(runs, arms, metric, scale=100.0, digits=2):
    """Half-widths of the 95% interval of `metric` per arm, as text ('n/a' with one seed)."""
    out = []
    for arm in arms:
        s = stats.summarize(runs.metric(arm, metric))
        out.append(f"± {s.ci95 * scale:.{digits}f}" if s.n > 1 else "n/a")
    return out
