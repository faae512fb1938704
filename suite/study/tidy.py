"""Stored records as tidy pandas tables: one row per run, and one row per (run, epoch, metric).

`runs_frame`: task, backend, profile, stage, arm, seed, status, wall_s, finished, then the
run's config as `config.<key>` and its final metrics as `metrics.<key>` columns.

`curves_frame`: task, backend, profile, stage, arm, seed, epoch, metric, value. Per-epoch
training curves (`history`) keep their names (epoch 1 is the end of the first epoch); probe
curves are named `<probe>/<field>` or, per variable or layer, `<probe>/<field>/<name>`, at
the probe's own epochs (0 is before training; fractional epochs for every-N-steps probes).
"""

import pandas as pd

KEYS = ("task", "backend", "profile", "stage", "arm", "seed")
RUN_FIELDS = (*KEYS, "status", "wall_s", "finished")
CURVE_COLUMNS = (*KEYS, "epoch", "metric", "value")


def runs_frame(records):
    """One row per stored run, with its config and final metrics as columns."""
    rows = []
    for r in records:
        row = {k: r.get(k) for k in RUN_FIELDS}
        row.update({f"config.{k}": _cell(v) for k, v in r.get("config", {}).items()})
        row.update({f"metrics.{k}": v for k, v in r.get("metrics", {}).items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else list(RUN_FIELDS))


def curves_frame(records):
    """One row per (run, epoch, metric) of every per-epoch curve and probe curve."""
    rows = []
    for r in records:
        key = tuple(r.get(k) for k in KEYS)
        for name, values in r.get("history", {}).items():
            if _numbers(values):
                rows += [(*key, i + 1, name, float(v)) for i, v in enumerate(values)]
        for probe, curve in r.get("probes", {}).items():
            rows += [(*key, *point) for point in _probe_points(probe, curve)]
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def _probe_points(probe, curve):
    """(epoch, metric, value) of a probe's stored curve: fields aligned with its `epoch` list."""
    if not isinstance(curve, dict) or not _numbers(curve.get("epoch")):
        return []
    epochs = curve["epoch"]
    names = curve.get("variables") or curve.get("layers")
    out = []
    for field, values in curve.items():
        if field in ("epoch", "step") or not isinstance(values, list) or len(values) != len(epochs):
            continue
        for epoch, value in zip(epochs, values):
            if _number(value):
                out.append((float(epoch), f"{probe}/{field}", float(value)))
            elif _numbers(value) and names and len(value) == len(names):
                out += [(float(epoch), f"{probe}/{field}/{n}", float(v)) for n, v in zip(names, value)]
    return out


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(values):
    return isinstance(values, list) and bool(values) and all(_number(v) for v in values)


def _cell(value):
    """Config values that are lists (e.g. layer widths) become one readable cell."""
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def describe(frame):
    """A one-line summary for the command line."""
    runs = frame[list(KEYS)].drop_duplicates() if len(frame) else frame
    return f"{len(frame)} rows, {len(runs)} runs" + (
        f", {frame['metric'].nunique()} metrics" if "metric" in frame else "")

