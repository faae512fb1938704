"""What do `--workers N` buy? One study serial vs with workers, and the catalogue on paper.

Part 1 (measured): `python -m suite.run TASK --workers W` for each W, into a fresh results
folder each, one after another in this process's machine; the ratio is serial wall time over
parallel wall time, from this one run. It also checks that the stored numbers do not depend on
the scheduling: every record's metrics must equal the serial run's.

Part 2 (on paper): from the per-cell wall times stored in `results/` (the shipped runs, one
backend per task, the fastest stored), the wall time of the whole catalogue on 1, 8 and 64
workers. Within a task a stage waits for the stages before it (its cells are scheduled longest
first onto the workers); tasks run one after another, as `python -m suite.run all` does. The
longest cell of each stage bounds it however many workers there are. Cells ran one at a time
on a 2-core machine, so with many workers per machine each cell would take longer.

    SUITE_DATA_DIR=../shared/data python benchmarks/parallel.py                 # task07 quick, ~10 min
    python benchmarks/parallel.py --task task06 --profile smoke --backend jax   # a quick look

Writes benchmarks/PARALLEL.md. Not a test: timings depend on the machine and its load.
"""

import argparse
import heapq
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECTED = (1, 8, 64)
TOLERANCE = 1e-9  # relative: beyond float64 rounding of a reduction


def timed_run(task, profile, backend, workers, results):
    """Wall seconds of one `suite.run` into `results` (training only, no writeup)."""
    cmd = [sys.executable, "-m", "suite.run", task, "--profile", profile, "--backend", backend,
           "--workers", str(workers), "--results-dir", str(results), "--no-report"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "KERAS_BACKEND": backend}, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def stored_metrics(results):
    """(stage, arm, seed) -> metrics without timings, for every record under `results`."""
    out = {}
    for path in Path(results).glob("*/*/*/*/*/seed*.json"):
        r = json.loads(path.read_text())
        out[r["stage"], r["arm"], r["seed"]] = {k: v for k, v in r["metrics"].items()
                                                if "seconds" not in k and not k.endswith("_s")}
    return out


def largest_difference(a, b):
    """The largest relative difference between two runs' stored numbers (inf if the records differ)."""
    if a.keys() != b.keys():
        return float("inf")
    worst = 0.0
    for cell in a:
        if a[cell].keys() != b[cell].keys():
            return float("inf")
        for key, x in a[cell].items():
            y = b[cell][key]
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and x != y:
                worst = max(worst, abs(x - y) / max(abs(x), abs(y)))
            elif x != y:
                return float("inf")
    return worst


def makespan(cells, workers):
    """Wall time of cells scheduled longest first onto `workers` (list scheduling)."""
    finish = [0.0] * min(workers, len(cells))
    for wall in sorted(cells, reverse=True):
        heapq.heapreplace(finish, finish[0] + wall)
    return max(finish, default=0.0)


def catalogue_cells():
    """task -> (backend, profile, {stage: [wall_s, ...]}) from the shipped results, stages in run order."""
    out = {}
    for task_dir in sorted((ROOT / "results").iterdir()):
        options = []
        for folder in task_dir.glob("*/*"):
            stages = defaultdict(list)
            for path in sorted(folder.glob("*/*/seed*.json"), key=lambda p: p.stat().st_mtime):
                r = json.loads(path.read_text())
                stages[r["stage"]].append(float(r.get("wall_s", 0.0)))
            if stages:
                options.append((sum(map(sum, stages.values())), folder.parent.name, folder.name, dict(stages)))
        if options:
            _, backend, profile, stages = min(options)
            out[task_dir.name] = (backend, profile, stages)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--task", default="task07")
    p.add_argument("--profile", default="quick")
    p.add_argument("--backend", default="jax")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "PARALLEL.md"))
    args = p.parse_args()

    rows, serial = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for w in args.workers:
            results = Path(tmp) / f"workers{w}"
            wall = timed_run(args.task, args.profile, args.backend, w, results)
            numbers = stored_metrics(results)
            serial = serial or (wall, numbers)
            diff = largest_difference(serial[1], numbers)
            same = "identical" if diff == 0 else f"NO ({diff:.1g})" if diff > TOLERANCE else f"rounding ({diff:.0e})"
            rows.append(f"| {w} | {wall:.0f} | {serial[0] / wall:.2f} | {len(numbers)} | {same} |")
            print(rows[-1], flush=True)

    cells = catalogue_cells()
    paper = []
    for task, (backend, profile, stages) in cells.items():
        spans = [sum(makespan(walls, w) for walls in stages.values()) for w in PROJECTED]
        paper.append(f"| {task} | {backend} {profile} | {sum(map(len, stages.values()))} | "
                     + " | ".join(f"{s / 60:.1f}" for s in spans) + " |")
    totals = [sum(sum(makespan(walls, w) for walls in st.values()) for _, _, st in cells.values()) for w in PROJECTED]

    os.environ["KERAS_BACKEND"] = args.backend
    sys.path.insert(0, str(ROOT))
    from suite.study import environment  # loads Keras: only now, after the timed runs


    text = "\n".join([
        "# Parallel cells",
        "",
        f"*Generated by `python benchmarks/parallel.py --task {args.task} --profile {args.profile} --backend "
        f"{args.backend} --workers {' '.join(map(str, args.workers))}` on "
        f"{datetime.now(timezone.utc).isoformat(timespec='minutes')}; not a test.*",
        "",
        f"Machine: {environment.cpu_name()} ({os.cpu_count()} cores), no accelerator used.",
        "",
        f"## {args.task} {args.profile} on {args.backend}: serial vs `--workers N` (one run each)",
        "",
        "| workers | wall (s) | speed-up over 1 | records | numbers vs 1 worker |",
        "|---|---|---|---|---|",
        *rows,
        "",
        "Wall time includes process start-up and, with workers, each worker's own Keras import and "
        "compilation. The last column compares every stored metric except timings: 'rounding' gives the "
        f"largest relative difference where it stays below {TOLERANCE:g}; a worker runs NumPy's BLAS on its "
        "one thread, which sums float64 reductions (weight norms, cross-entropies of stored predictions) in "
        "another order than the serial process's pool (a serial run under OMP_NUM_THREADS=1 matches the "
        "workers bit for bit; checked on task06 smoke, JAX).",
        "",
        "## The catalogue on paper, from the stored per-cell wall times (minutes)",
        "",
        "| task | stored runs used | cells | " + " | ".join(f"{w} worker{'s' * (w > 1)}" for w in PROJECTED) + " |",
        "|---|---|---|" + "---|" * len(PROJECTED),
        *paper,
        "| **all** | | | " + " | ".join(f"**{t / 60:.1f}**" for t in totals) + " |",
        "",
        "Per task, the stored profile whose runs took least (most tasks ship quick runs only). Stages wait "
        "for the stages before them and the longest cell bounds each stage, so the gain flattens once the "
        "workers outnumber a stage's cells; the cells were timed one at a time on 2 cores.",
    ])
    Path(args.out).write_text(text + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
