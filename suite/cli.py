"""Command line: `python -m suite.run TASK|list|all [options]` and `python -m suite.report TASK`.

Examples:
    python -m suite.run list
    python -m suite.run task07 --profile quick
    python -m suite.run task02 --set images=a.png,b.png
    python -m suite.run task07 --backend all
    python -m suite.run path/to/my_study.py --profile smoke
    python -m suite.report task07 --backend jax --profile quick

The Keras backend is fixed when Keras is first imported, so this module imports nothing that
imports Keras until the backend is chosen (for a report: the one its results were stored with).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from suite import SuiteError, tracking
from suite.study import options as task_options, registry
from suite.backend import BACKENDS
from suite.study.profiles import PROFILES, check_backend, make_profile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # no TensorFlow C++ info lines on any command


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise SuiteError(f"{message} (see --help)")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _trackers(text):
    try:
        return tracking.names(text)
    except SuiteError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _parser(report_only):
    prog = "python -m suite.report" if report_only else "python -m suite.run"
    p = _Parser(prog=prog, description=__doc__.split("\n")[0], epilog="Task options: `python -m suite.run list`.")
    p.add_argument("task", nargs="?" if report_only else None, help="task id (e.g. task07) or a study file (.py)"
                   + (", 'all', or 'index' (submission/README.md)" if report_only else ", 'list' or 'all'"))
    p.add_argument("--backend", help=f"{', '.join(BACKENDS)} or all (run default: $KERAS_BACKEND or tensorflow; "
                                     "report default: the backend whose results are stored)")
    p.add_argument("--profile", default=None if report_only else "full",
                   help=f"{', '.join(PROFILES)} (run default: full; report default: the stored one)")
    p.add_argument("--results-dir", default="results", help="results store (default: results)")
    p.add_argument("--submission-dir", default="submission", help="where writeups go (default: submission)")
    p.add_argument("--epochs", type=_positive_int, help="epochs per arm (overrides the profile)")
    p.add_argument("--subset", type=_positive_int, help="training examples (overrides the profile)")
    p.add_argument("--seeds", type=_positive_int, help="seeds per arm (overrides the profile)")
    if not report_only:
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="a task option (repeatable; tuples comma-separated); `list` shows each task's")
        p.add_argument("--fresh", action="store_true", help="discard stored results and artifacts of this "
                                                            "backend/profile")
        p.add_argument("--workers", type=_positive_int, default=1,
                       help="processes that train a stage's cells side by side, each with its share of the "
                            "cores (default: 1)")
        p.add_argument("--track", type=_trackers, default=(), metavar="mlflow|tensorboard",
                       help="also log every stored cell to MLflow and/or TensorBoard (comma-separated)")
        p.add_argument("--deterministic", action="store_true",
                       help="deterministic GPU kernels (slower; CPU runs are deterministic already)")
        p.add_argument("--images", nargs="+", default=[], help="task02: your own digit images (= --set images=...)")
        p.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)
    else:
        p.add_argument("--html", action="store_true", help="render the submission folder (index and every writeup, "
                                                           "with figures) as static HTML pages; no task")
        p.add_argument("--out", default="html", help="where --html writes its pages (default: html)")
    return p


def _set_backend(name, deterministic=False):
    """Fix the Keras backend (and determinism settings) for this process before keras is imported."""
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != name:
            raise SuiteError(f"keras is already loaded with backend {keras.backend.backend()}; "
                             f"set KERAS_BACKEND={name} before starting Python")
    os.environ["KERAS_BACKEND"] = name
    from suite import backend
    from suite.backend import quiet

    backend.prepare(deterministic)
    quiet.import_keras()
    if deterministic:
        backend.enable_determinism()


def _option_pairs(args):
    pairs = list(getattr(args, "set", []))
    if getattr(args, "images", None):
        pairs.append("images=" + ",".join(args.images))
    return pairs


def _list():
    from suite.study import estimate

    for e in registry.catalogue():
        mark = "implemented" if e.implemented else "not implemented yet"
        print(f"{e.id}  {e.title}  [{mark}]")
        print(f"        question: {e.question}")
        for c in e.claims:
            print(f"        seed claim: {c}")
        if not e.implemented:
            continue
        for line in task_options.describe(task_options.declared(registry.load(e.id))):
            print(f"        option --set {line}")
        measured = []
        for name, profile in PROFILES.items():
            for b in BACKENDS:
                est = estimate.seconds(estimate.SHIPPED, e.id, b, profile)
                if est and est.basis.endswith("results/") and " on " not in est.basis:
                    measured.append(f"{name} {b} {est.seconds / 60:.1f} min")
        if measured:
            print("        measured: " + "; ".join(measured))


def _forwarded(args):
    """The arguments a per-backend subprocess needs to repeat this command."""
    out = [args.task, "--profile", args.profile, "--results-dir", args.results_dir,
           "--submission-dir", args.submission_dir, "--no-report"]
    for flag in ("seeds", "epochs", "subset"):
        if getattr(args, flag) is not None:
            out += [f"--{flag}", str(getattr(args, flag))]
    for flag in ("fresh", "deterministic"):
        if getattr(args, flag):
            out.append(f"--{flag}")
    for pair in _option_pairs(args):
        out += ["--set", pair]
    if args.track:
        out += ["--track", ",".join(args.track)]
    return out


def _each_backend(args):
    """`--backend all`: train in one subprocess per backend (the backend is fixed at import); with
    `--workers N`, up to N of them side by side, sharing the N workers and the cores."""
    from suite import backend as adapters

    side_by_side = min(args.workers, len(BACKENDS))
    share = max(1, args.workers // len(BACKENDS))
    threads = max(1, (os.cpu_count() or 1) // (side_by_side * share))
    running, failed = {}, []
    for b in [*BACKENDS, None]:
        while running and (b is None or len(running) >= side_by_side):
            done = next((name for name, proc in running.items() if proc.poll() is not None), None)
            if done is None:
                time.sleep(0.5)
                continue
            if running.pop(done).returncode != 0:
                failed.append(done)
        if b is None:
            break
        print(f"=== {args.task} on {b} ===", file=sys.stderr, flush=True)
        env = {**os.environ, "KERAS_BACKEND": b, **(adapters.thread_env(threads) if side_by_side > 1 else {})}
        extra = ["--workers", str(share)] if args.workers > 1 else []
        running[b] = subprocess.Popen([sys.executable, "-m", "suite.run", *_forwarded(args), *extra, "--backend", b],
                                      env=env)
    if failed:
        raise SuiteError(f"{args.task} failed on {', '.join(failed)}; the other backends' results are kept")


def _stored(results_dir, task, backend=None, profile=None):
    """`[(backend, profile label)]` that hold stored runs of `task`, optionally filtered."""
    root = Path(results_dir) / registry.task_id(task)
    found = sorted({(p.parts[-5], p.parts[-4]) for p in root.glob("*/*/*/*/seed*.json")}) if root.is_dir() else []
    return [(b, l) for b, l in found if backend in (None, b) and profile in (None, l)]


def _report_target(args, task):
    """The backend and profile label a report is built from (asked for, or the one stored)."""
    label = None
    if args.profile is not None:
        label = make_profile(args.profile, args.seeds, args.epochs, args.subset).label
    backend = None if args.backend in (None, "all") else check_backend(args.backend)
    found = _stored(args.results_dir, task, backend, label)
    if backend and label:
        return backend, label
    if len(found) == 1:
        return found[0]
    if not found:
        raise SuiteError(f"no stored results for {task} in {args.results_dir}"
                         + (f" for {backend or ''} {label or ''}".rstrip() if backend or label else "")
                         + f": run `python -m suite.run {task}` first")
    if args.backend == "all" and label and len({l for _, l in found}) == 1:
        return BACKENDS[0] if (BACKENDS[0], label) in found else found[0][0], label
    listing = ", ".join(f"--backend {b} --profile {l}" for b, l in found)
    raise SuiteError(f"{task} has stored results for several backends/profiles; choose one: {listing}")


def _writeup(task, backend, label, args):
    """Build the writeup; one of runs with --epochs/--subset/--seeds overrides goes apart from the
    shipped ones (`<submission>/custom/<label>/`), and the line printed says so."""
    from suite.report import build

    folder = Path(args.submission_dir)
    custom = "-" in label or args.seeds is not None  # labels carry --epochs/--subset, e.g. quick-epochs5
    if custom:
        folder = folder / "custom" / (label + (f"-seeds{args.seeds}" if args.seeds else ""))
    path = build.build(task, backend, label, args.results_dir, folder)
    print(f"wrote {path}" + (" (a run with overrides: written apart from the shipped writeups)" if custom else ""))
    return path


def _do_report(args):
    if args.html:
        if args.task:
            raise SuiteError("--html renders the whole submission folder: give no task")
        from suite.report import html

        print(f"wrote {html.write(args.submission_dir, args.out)}")
        return
    if args.task is None:
        raise SuiteError("give a task id, 'all', 'index', or --html (see --help)")
    if args.task == "index":
        _set_backend(os.environ.get("KERAS_BACKEND") or BACKENDS[1])  # reading results needs no TensorFlow
        from suite.report import index

        print(f"wrote {index.write(args.results_dir, args.submission_dir)}")
        return
    tasks = registry.implemented() if args.task == "all" else [args.task]
    targets = [(t, *_report_target(args, t)) for t in tasks]
    backends = {b for _, b, _ in targets}
    if len(backends) > 1:
        raise SuiteError("the tasks' results are stored on different backends; report them one at a time")
    _set_backend(backends.pop())
    for task, backend, label in targets:
        _writeup(task, backend, label, args)


def _do_run(args):
    if args.task == "all" and _option_pairs(args):
        raise SuiteError("--set applies to one task; run the tasks one at a time to give options")
    backend = args.backend or os.environ.get("KERAS_BACKEND") or "tensorflow"
    if backend != "all":
        check_backend(backend)
    profile = make_profile(args.profile, args.seeds, args.epochs, args.subset)
    tasks = registry.implemented() if args.task == "all" else [args.task]
    for task in tasks:
        registry.task_id(task)  # an unknown task fails before Keras loads
    tracking.require(args.track)
    _set_backend(BACKENDS[0] if backend == "all" else backend, args.deterministic)
    from suite.study import runner

    modules = {task: registry.load(task) for task in tasks}
    opts = {task: task_options.parse(task_options.declared(m), _option_pairs(args)) for task, m in modules.items()}
    if backend == "all":
        _each_backend(args)
    for task in tasks:
        if backend != "all":
            runner.run(task, profile, args.results_dir, fresh=args.fresh, options=opts[task], workers=args.workers,
                       track=args.track)
        if not args.no_report:
            path = _writeup(task, BACKENDS[0] if backend == "all" else backend, profile.label, args)
            tracking.log_writeup(args.track, path, args.results_dir, registry.task_id(task),
                                 BACKENDS if backend == "all" else [backend], profile.label)


def cli(argv=None, report_only=False):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser(report_only).parse_args(argv)
        if args.task == "list" and not report_only:
            _set_backend(check_backend(os.environ.get("KERAS_BACKEND") or "tensorflow"))  # task modules load Keras
            _list()
        elif report_only:
            _do_report(args)
        else:
            _do_run(args)
        return 0
    except SuiteError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted: finished runs are stored; rerun the same command to resume", file=sys.stderr)
        return 130


def main(report_only=False):
    return cli(report_only=report_only)
