"""A stored record as tracker data: its cell key, its version, its curves and its histograms.

Curve names are `suite.study.tidy`'s (the export's `metric` column): history curves by their
name, probe curves as `<probe>/<field>[/<variable>]`. Trackers count steps in integers, so the
step is the epoch (0 is before training); a curve with fractional epochs (every-N-steps probe
points) is named `<name>/milliepoch` and stepped by round(1000 x epoch).
"""

import numpy as np

from suite.study import tidy


def cell_key(record):
    """`stage/arm/seed<k>`: one (stage, arm, seed) cell of a study."""
    return f"{record['stage']}/{record['arm']}/seed{record['seed']}"


def version(record):
    """What tells a retrained cell from the one already logged: its finish time (`failed` for a failure note)."""
    return "failed" if record.get("status") == "failed" else record.get("finished", "")


def _steps(name, epochs):
    epochs = np.asarray(epochs, dtype=float)
    if np.all(epochs == np.round(epochs)):
        return name, epochs.astype(int).tolist()
    return f"{name}/milliepoch", np.round(epochs * 1000).astype(int).tolist()


def points(record):
    """`[(name, step, value)]` of every training and probe curve of a record."""
    frame = tidy.curves_frame([record])
    out = []
    for metric, rows in frame.groupby("metric", sort=False):
        name, steps = _steps(metric, rows["epoch"])
        out += [(name, step, float(v)) for step, v in zip(steps, rows["value"])]
    return out


def histograms(record):
    """`[(name, step, edges, counts)]` of the probes that store histograms on fixed bins (the
    weight probe: `hist` per point and variable, on `bins`), named `<probe>/hist/<variable>`."""
    out = []
    for probe, curve in record.get("probes", {}).items():
        if not isinstance(curve, dict) or "hist" not in curve or "bins" not in curve:
            continue
        edges = np.asarray(curve["bins"], dtype=float)
        for i, variable in enumerate(curve["variables"]):
            name, steps = _steps(f"{probe}/hist/{variable}", curve["epoch"])
            out += [(name, step, edges, np.asarray(counts[i], dtype=float))
                    for step, counts in zip(steps, curve["hist"])]
    return out
