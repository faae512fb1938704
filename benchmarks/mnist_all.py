"""What the ten MNIST studies (task01..task10) cost per backend, end to end.

Two measurements, both written to benchmarks/MNIST_ALL.md (one table per source):
  run (default): `python -m suite.run TASK --backend B --profile P` for each task and backend,
      one process each as a user would run it, into a scratch results folder (the shipped
      results are untouched). Reports the command's wall time (process start, data, every
      stage's training, the writeup) and the sum of the runs' own training wall times.
  --from-results DIR: no training; the sum of the stored runs' own wall times (`wall_s` of
      every seed record) in a results folder, e.g. the shipped `results/`, per task and backend.

    SUITE_DATA_DIR=../shared/data python benchmarks/mnist_all.py --backends jax    # ~45 min on 2 cores
    SUITE_DATA_DIR=../shared/data python benchmarks/mnist_all.py --profile smoke   # ~10 min: all three backends
    python benchmarks/mnist_all.py --from-results results --profile quick          # seconds

Not a test: the numbers depend on the machine and its load.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suite.backend import BACKENDS  # noqa: E402
from suite.study import environment  # noqa: E402

TASKS = tuple(f"task{i:02d}" for i in range(1, 11))  # the MNIST studies of the catalogue


def stored_runs(results_dir, task, backend, profile):
    """The seed records of one task/backend/profile (every stage)."""
    return [json.loads(p.read_text()) for p in (Path(results_dir) / task / backend / profile).glob("*/*/seed*.json")]


def machine(env):
    """'cpu; accelerator; thread settings' of an environment record (`suite.study.environment.describe`)."""
    threads = ", ".join(f"{k}={v}" for k, v in env.get("thread_env", {}).items()) or "library defaults"
    return f"{env['cpu']}; accelerator: {env['device']}; thread settings: {threads}"


def run_task(task, backend, profile, scratch, seeds):
    """Run one task as a user would; returns (command wall seconds, runs' own seconds, runs)."""
    cmd = [sys.executable, "-m", "suite.run", task, "--backend", backend, "--profile", profile,
           "--results-dir", str(scratch / "results"), "--submission-dir", str(scratch / "submission")]
    if seeds:
        cmd += ["--seeds", str(seeds)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"})
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{task} on {backend} failed:\n{proc.stderr[-3000:]}")
    records = stored_runs(scratch / "results", task, backend, profile)
    return wall, sum(r["wall_s"] for r in records), len(records)


def _minutes(seconds):
    return f"{seconds / 60:.1f}"


def table(rows, backends, columns):
    """Markdown: one row per task, per backend the given columns (minutes), and a total row."""
    head = "| task | " + " | ".join(f"{b}: {c}" for b in backends for c, _ in columns) + " |"
    lines = [head, "|---" * (1 + len(backends) * len(columns)) + "|"]
    for task in TASKS:
        cells = [_minutes(rows[(task, b)][key]) if (task, b) in rows else "-" for b in backends for _, key in columns]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    totals = []
    for b in backends:
        done = [t for t in TASKS if (t, b) in rows]
        for _, key in columns:
            total = f"**{_minutes(sum(rows[(t, b)][key] for t in done))}**" if done else "-"
            totals.append(total if len(done) == len(TASKS) else f"{total} ({len(done)} of {len(TASKS)} tasks)")
    lines.append("| **total** | " + " | ".join(totals) + " |")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--profile", default="quick", choices=("smoke", "quick", "full"))
    p.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    p.add_argument("--seeds", type=int, default=None, help="seeds per arm (default: the profile's)")
    p.add_argument("--from-results", metavar="DIR", help="sum the stored runs' wall times instead of running")
    p.add_argument("--out", help="default: benchmarks/MNIST_ALL.md, or MNIST_ALL_STORED.md with --from-results")
    args = p.parse_args()
    out = Path(args.out or ROOT / "benchmarks" / ("MNIST_ALL_STORED.md" if args.from_results else "MNIST_ALL.md"))
    started = datetime.now(timezone.utc).isoformat(timespec="minutes")
    env = environment.describe()
    machines = [machine(env)]
    rows = {}

    def write(columns, how):
        flags = f"--profile {args.profile} --backends {' '.join(args.backends)}"
        flags += f" --from-results {args.from_results}" if args.from_results else ""
        flags += f" --seeds {args.seeds}" if args.seeds else ""
        lines = ["# The ten MNIST studies: wall time per backend", "",
                 f"*Generated by `python benchmarks/mnist_all.py {flags}` on {started}; not a test.*", "",
                 f"Machine: {' / '.join(machines)}; Python {env['python']}, Keras {env['keras']}.", "", how, "",
                 *table(rows, args.backends, columns), ""]
        out.write_text("\n".join(lines))

    if args.from_results:
        records = []
        for b in args.backends:
            for task in TASKS:
                runs = stored_runs(args.from_results, task, b, args.profile)
                records += runs
                if runs:
                    rows[(task, b)] = {"own": sum(r["wall_s"] for r in runs), "runs": len(runs)}
        machines = sorted({machine(r["env"]) for r in records if "env" in r})
        write([("runs' own wall time, min", "own")],
              f"Sum of the stored runs' own wall times (`wall_s` of every seed record, selection stages included) "
              f"under `{args.from_results}/<task>/<backend>/{args.profile}/`; no training was run. Those runs were "
              "made at different times, some beside other jobs; '-' marks a task not stored for that backend.")
    else:
        seeds = f", --seeds {args.seeds}" if args.seeds else ""
        how = (f"`python -m suite.run TASK --backend B --profile {args.profile}{seeds}` per task and backend, one "
               "process each, one after another into a scratch results folder. 'command': the whole command's wall "
               "time (process start, data loading, every stage, the writeup); 'runs': the sum of the runs' own "
               "training wall times as stored in their records. '-': not run (yet).")
        with tempfile.TemporaryDirectory(prefix="mnist_all_") as scratch:
            for b in args.backends:
                for task in TASKS:
                    wall, own, runs = run_task(task, b, args.profile, Path(scratch), args.seeds)
                    rows[(task, b)] = {"wall": wall, "own": own, "runs": runs}
                    print(f"{b} {task}: {wall:.0f} s (runs {own:.0f} s, {runs} runs)", file=sys.stderr, flush=True)
                    # After each task, so that partial results stay.
                    write([("command, min", "wall"), ("runs, min", "own")], how)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
