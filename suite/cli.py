"""Command line: `python -m suite.run TASK|list|all [options]` (and `python -m suite.report TASK`).

Examples:
    python -m suite.run list
    python -m suite.run task07 --profile quick
    python -m suite.run task07 --backend all
    python -m suite.report task07 --backend jax --profile quick
"""

import argparse
import os
import subprocess
import sys

from suite import SuiteError
from suite.study.profiles import BACKENDS, PROFILES, check_backend, make_profile


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


def _parser(report_only):
    prog = "python -m suite.report" if report_only else "python -m suite.run"
    p = _Parser(prog=prog, description=__doc__.split("\n")[0])
    p.add_argument("task", help="task id (e.g. task07)" + ("" if report_only else ", 'list' or 'all'"))
    p.add_argument("--backend", help=f"{', '.join(BACKENDS)} or all (default: $KERAS_BACKEND or tensorflow)")
    p.add_argument("--profile", default="full", help=f"{', '.join(PROFILES)} (default: full)")
    p.add_argument("--results-dir", default="results", help="results store (default: results)")
    p.add_argument("--submission-dir", default="submission", help="where writeups go (default: submission)")
    p.add_argument("--epochs", type=_positive_int, help="epochs per arm (overrides the profile)")
    p.add_argument("--subset", type=_positive_int, help="training examples (overrides the profile)")
    if not report_only:
        p.add_argument("--seeds", type=_positive_int, help="seeds per arm (overrides the profile)")
        p.add_argument("--fresh", action="store_true", help="discard stored results of this backend/profile")
        p.add_argument("--deterministic", action="store_true",
                       help="deterministic GPU kernels (slower; CPU runs are deterministic already)")
        p.add_argument("--images", nargs="+", default=[], help="your own digit images (task02)")
        p.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)
    return p


def _list():
    from suite.study import registry

    for e in registry.catalogue():
        mark = "implemented" if e.implemented else "not implemented yet"
        print(f"{e.id}  {e.title}  [{mark}]")
        print(f"        question: {e.question}")
        for c in e.claims:
            print(f"        seed claim: {c}")
        if e.implemented:
            cost = getattr(__import__(e.module_name, fromlist=["COST_S"]), "COST_S", {})
            if cost:
                print("        est. on a 2-core CPU: " + "; ".join(
                    f"{p} " + ", ".join(f"{b} {s / 60:.1f} min" for b, s in by.items()) for p, by in cost.items()))


def _set_backend(name, deterministic=False):
    """Fix the Keras backend (and determinism settings) for this process before keras is imported."""
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != name:
            raise SuiteError(f"keras is already loaded with backend {keras.backend.backend()}; "
                             f"set KERAS_BACKEND={name} before starting Python")
    os.environ["KERAS_BACKEND"] = name
    from suite import backend

    backend.prepare(deterministic)
    if deterministic:
        backend.enable_determinism()


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
    if args.images:
        out += ["--images", *args.images]
    return out


def _each_backend(args):
    """`--backend all`: train in one subprocess per backend (the backend is fixed at import)."""
    for b in BACKENDS:
        print(f"=== {args.task} on {b} ===", file=sys.stderr, flush=True)
        code = subprocess.call([sys.executable, "-m", "suite.run", *_forwarded(args), "--backend", b],
                               env={**os.environ, "KERAS_BACKEND": b})
        if code != 0:
            raise SuiteError(f"{args.task} failed on {b} (exit code {code}); the other backends' results are kept",
                             exit_code=code)


def _tasks(name):
    from suite.study import registry

    if name == "all":
        return registry.implemented()
    registry.load(name)
    return [name]


def cli(argv=None, report_only=False):
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser(report_only).parse_args(argv)
        if args.task == "list" and not report_only:
            _list()
            return 0
        backend = args.backend or os.environ.get("KERAS_BACKEND") or "tensorflow"
        if backend != "all":
            check_backend(backend)
        profile = make_profile(args.profile, getattr(args, "seeds", None), args.epochs, args.subset)
        tasks = _tasks(args.task)
        if backend == "all":
            if not report_only:
                _each_backend(args)
            backend = BACKENDS[0]  # the reference backend of the writeup
        _set_backend(backend, getattr(args, "deterministic", False))
        from suite.report import build as report
        from suite.study import runner

        for task in tasks:
            if not report_only and args.backend != "all":  # with "all", the subprocesses trained
                runner.run(task, profile, args.results_dir, fresh=args.fresh, options={"images": args.images})
            if report_only or not args.no_report:
                path = report.build(task, backend, profile.label, args.results_dir, args.submission_dir)
                print(f"wrote {path}")
        return 0
    except SuiteError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted: finished runs are stored; rerun the same command to resume", file=sys.stderr)
        return 130


def main(report_only=False):
    return cli(report_only=report_only)
