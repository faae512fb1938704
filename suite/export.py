"""`python -m suite.export TASK`: a study's stored runs as two tidy tables for pandas.

    python -m suite.export task07                          # task07_curves.csv + task07_runs.csv
    python -m suite.export task07 --backend jax --profile quick --format parquet --out out/t7.parquet

The curves table has one row per (task, backend, profile, stage, arm, seed, epoch, metric,
value); the runs table one row per run with its config and final metrics (`suite.study.tidy`
documents both). Every backend and profile stored for the task is exported unless narrowed.
Reads the JSON records only: no Keras, nothing trained.
"""

import argparse
import sys
from pathlib import Path

from suite import SuiteError
from suite.study import registry, tidy
from suite.study.results import ResultStore

FORMATS = ("csv", "parquet")


def stored_records(results_dir, task, backend=None, profile=None):
    """Every stored record of `task`, optionally of one backend and/or profile label."""
    root = Path(results_dir) / task
    folders = sorted(p for p in root.glob("*/*") if p.is_dir()) if root.is_dir() else []
    records = []
    for folder in folders:
        if backend not in (None, folder.parent.name) or profile not in (None, folder.name):
            continue
        store = ResultStore(results_dir, task, folder.parent.name, folder.name)
        for stage in store.stages():
            records += store.load(stage).records
    if not records:
        narrowed = " ".join(x for x in (backend, profile) if x)
        raise SuiteError(f"no stored results for {task}{' (' + narrowed + ')' if narrowed else ''} in {results_dir}")
    return records


def _write(frame, path, fmt):
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(path, index=False)
        return
    try:
        frame.to_parquet(path, index=False)
    except ImportError as e:
        raise SuiteError(f"parquet needs pyarrow (pip install pyarrow): {e}") from None


def export(task, results_dir="results", backend=None, profile=None, fmt="csv", out=None):
    """Write the curves and runs tables of `task`; returns their paths."""
    task = registry.task_id(task)
    records = stored_records(results_dir, task, backend, profile)
    curves_path = Path(out) if out else Path(f"{task}_curves.{fmt}")
    stem = curves_path.stem.removesuffix("_curves")
    runs_path = curves_path.with_name(f"{stem}_runs{curves_path.suffix}")
    curves, runs = tidy.curves_frame(records), tidy.runs_frame(records)
    _write(curves, curves_path, fmt)
    _write(runs, runs_path, fmt)
    return curves_path, runs_path, curves, runs


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m suite.export", description=__doc__.split("\n")[0])
    p.add_argument("task", help="task id, e.g. task07")
    p.add_argument("--backend", help="only this backend (default: every stored one)")
    p.add_argument("--profile", help="only this profile label, e.g. quick (default: every stored one)")
    p.add_argument("--results-dir", default="results")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--out", help="the curves table's file (default: <task>_curves.<format>); the runs table "
                                 "goes beside it as <name>_runs.<format>")
    args = p.parse_args(argv)
    try:
        curves_path, runs_path, curves, runs = export(args.task, args.results_dir, args.backend, args.profile,
                                                      args.format, args.out)
    except SuiteError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {curves_path} ({tidy.describe(curves)}) and {runs_path} ({len(runs)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
