"""Runs a task's grid on one backend: stages, seeds, resume, progress, timing and saving.

A task module provides (DESIGN.md section 3):

- `grid(profile, selection)`: the arms to run with every seed (frozen dataclasses with a
  `name` and `epochs`); `selection` holds the selection-stage runs, or `None`.
- `select(profile)` (optional): arms run once, with `SELECT_SEED`, to choose settings (e.g. a
  learning rate per optimizer) on validation data before the main stage.
- `train(config, ctx)`: one arm and seed -> `dict(metrics, history, status, ...)`.
- `analyze(runs, ctx)`: fills `ctx.writeup` from stored runs (see `suite.report`).
- `COST_S` (optional): `{profile: {backend: seconds}}` measured on a 2-core CPU.
"""

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import keras

from suite import SuiteError
from suite.study import environment, registry
from suite.study.profiles import PROFILES
from suite.study.progress import Progress
from suite.study.results import ResultStore, as_stored

SELECT_SEED = 1000  # selection runs use a seed no main run uses
LONG_ON_CPU_S = 1800


@dataclass
class TrainContext:
    """What `train(config, ctx)` may use besides its config."""

    task: str
    backend: str
    profile: object
    stage: str
    seed: int
    progress: Progress
    options: dict


def _estimate(module, profile, backend):
    """Seconds the task's declared cost predicts, scaled to the seeds asked for (None if unknown)."""
    cost = getattr(module, "COST_S", {}).get(profile.name, {}).get(backend)
    if cost is None or profile.epochs is not None or profile.train_size is not None:
        return None
    return cost * profile.seeds / PROFILES[profile.name].seeds


def _announce(entry, module, profile, backend, selection, progress):
    progress.line(f"{entry.id}: {entry.title}")
    if selection:
        progress.line(f"selection stage: {len(selection)} arms x 1 seed (choosing settings on validation data)")
    progress.line(f"main stage: {profile.seeds} seed(s) per arm, profile {profile.name}, backend {backend}")
    est = _estimate(module, profile, backend)
    if est is not None:
        progress.line(f"estimated time on a 2-core CPU: about {est / 60:.0f} min")
        if profile.name == "full" and est > LONG_ON_CPU_S and not environment.accelerators():
            progress.line("no GPU found: `--profile quick` gives a smaller study in a fraction of the time")


def _run_stage(entry, module, store, stage, configs, seeds, profile, backend, progress, options):
    inputs = as_stored({k: v for k, v in options.items() if k != "results_dir" and v})  # e.g. --images
    for config in configs:
        for seed in seeds:
            if store.has(stage, config.name, seed):
                stored = store.load_one(stage, config.name, seed)
                if stored["config"] != as_stored(dataclasses.asdict(config)):
                    raise SuiteError(f"{store.path(stage, config.name, seed)} was stored with another config; "
                                     f"rerun with --fresh to start over")
                if stored.get("options", {}) != inputs:
                    raise SuiteError(f"{store.path(stage, config.name, seed)} was stored with other inputs "
                                     f"({stored.get('options', {})} vs {inputs}); rerun with --fresh to start over")
                progress.skip(config.epochs)
                continue
            progress.start(f"{stage} {config.name} seed {seed}")
            keras.backend.clear_session()
            keras.utils.set_random_seed(seed)
            ctx = TrainContext(entry.id, backend, profile, stage, seed, progress, options)
            t0 = time.perf_counter()
            out = module.train(config, ctx)
            store.save({
                "task": entry.id, "backend": backend, "profile": profile.label, "stage": stage,
                "arm": config.name, "seed": seed, "config": dataclasses.asdict(config), "options": inputs,
                **out, "wall_s": time.perf_counter() - t0,
                "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "env": environment.describe(),
            })
            if out.get("status") == "diverged":
                progress.line(f"{config.name} seed {seed} diverged at epoch {out.get('diverged_epoch')}; going on")


def run(task_id, profile, results_dir, fresh=False, options=None):
    """Train every (arm, seed) of `task_id` not yet stored, on the current Keras backend.

    Args:
        task_id: e.g. `"task07"`.
        profile: a `suite.study.profiles.Profile` (overrides applied).
        results_dir: root of the results store.
        fresh: delete this task's stored results for this backend and profile first.
        options: task-specific options from the CLI (e.g. `images` for task02).
    """
    return run_module(registry.entry(task_id), registry.load(task_id), profile, results_dir, fresh, options)


def run_module(entry, module, profile, results_dir, fresh=False, options=None):
    """`run` for a given catalogue entry and task module (tests pass small synthetic tasks)."""
    backend = keras.backend.backend()
    store = ResultStore(results_dir, entry.id, backend, profile.label)
    if fresh:
        store.clear()
    selection = module.select(profile) if hasattr(module, "select") else []
    progress = Progress(f"{entry.id} {backend} {profile.label}", 0)
    progress.plan(sum(c.epochs for c in selection), final=not selection)
    _announce(entry, module, profile, backend, selection, progress)
    options = {"results_dir": str(results_dir), **(options or {})}
    _run_stage(entry, module, store, "select", selection, [SELECT_SEED], profile, backend, progress, options)
    configs = module.grid(profile, store.load("select") if selection else None)
    progress.plan(sum(c.epochs for c in configs) * profile.seeds)
    _run_stage(entry, module, store, "main", configs, range(profile.seeds), profile, backend, progress, options)
    progress.line(f"done: results in {store.dir}")
    return store
