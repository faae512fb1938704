"""Runs a study's stages on one backend: seeds, resume, artifacts, upstream runs, progress, saving.

A task module provides (DESIGN.md section 3):

- `stages(profile, options)`: a list of `suite.study.stages.Stage` (configs: frozen
  dataclasses with a `name`; `epochs`, where present, sizes the progress bar).
- `train(config, ctx)`: one (stage, arm, seed) -> `dict(metrics, history, status, ...)`;
  `ctx` is a `TrainContext`: its `artifact_dir` keeps weights and large arrays beside the
  record, and `ctx.upstream(stage, arm, seed, task)` reaches an earlier run.
- `analyze(runs, ctx)`: fills `ctx.writeup` from stored runs (see `suite.report.build`).
- optionally `Options` (what `--set key=value` changes, `suite.study.options`) and `DATA`
  (dataset names checked before anything runs, e.g. `("mnist",)`).

Every run is stored atomically as soon as it finishes; a rerun skips what is stored, so an
interrupted study resumes where it stopped.
"""

import dataclasses
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import keras

from suite import SuiteError, data, tracking
from suite.backend import quiet
from suite.study import environment, estimate, options as task_options, registry, stages as stage_rules
from suite.study.progress import Progress
from suite.study.results import ResultStore, as_stored

LONG_ON_CPU_S = 1800


@dataclass(frozen=True)
class Upstream:
    """A stored earlier run: its record and the folder of its artifacts."""

    record: dict
    artifact_dir: Path

    def artifact(self, name):
        return self.artifact_dir / name


@dataclass
class TrainContext:
    """What `train(config, ctx)` may use besides its config."""

    task: str
    backend: str
    profile: object
    stage: str
    seed: int
    progress: Progress
    options: object
    artifact_dir: Path
    study: "Study"

    def upstream(self, stage, arm, seed=None, task=None, artifacts=()):
        """The stored run `(stage, arm, seed)` of `task` (default: this task and this seed).

        If it is not stored, or lacks one of the named `artifacts` (weights are never
        committed), the runner trains it first, on this backend and profile, and stores it under
        its own task. Returns an `Upstream`.
        """
        return self.study.upstream(task or self.task, stage, arm, self.seed if seed is None else seed, artifacts,
                                   reseed=self.seed)


class Study:
    """One task on one backend and profile: the store, the stages, and how to run their cells."""

    def __init__(self, entry, module, profile, results_dir, options=None, progress=None):
        self.entry, self.module, self.profile = entry, module, profile
        self.results_dir = Path(results_dir)
        self.backend = keras.backend.backend()
        self.store = ResultStore(results_dir, entry.id, self.backend, profile.label)
        self.options = options if options is not None else task_options.declared(module)()
        self.stages = stage_rules.check(module.stages(profile, self.options), entry.id)
        self.progress = progress or Progress(f"{entry.id} {self.backend} {profile.label}", 0)
        self.trackers = []  # `suite.tracking`: told of each cell once it is stored

    def run(self, only=None, artifacts=(), workers=1):
        """Train every stage's missing cells in order; `only=(stage, arm, seed)` trains just that
        cell (and the stages it needs), retraining it if it lacks one of `artifacts`. With
        `workers > 1` a stage's cells train in that many processes (`suite.study.parallel`)."""
        done = {}
        for stage in self.stages:
            if only and stage.name != only[0] and stage.name not in self._needed_by(only[0]):
                continue
            configs = stage.resolve(done)
            seeds = stage.seed_list(self.profile)
            if only and stage.name == only[0]:
                configs = [self._config(stage, configs, only[1])]
                seeds = [only[2]]
            final = stage is self.stages[-1] or only is not None
            self.progress.plan(sum(stage_rules.units(c) for c in configs) * len(seeds), final=final)
            self._announce_stage(stage, configs, seeds)
            todo = [(config, seed) for config in configs for seed in seeds
                    if self._pending(stage.name, config, seed, artifacts if only else ())]
            if workers > 1 and len(todo) > 1:
                from suite.study import parallel

                parallel.train_cells(self, stage.name, todo, workers)
            elif todo:
                quiet.import_tensorflow()
                for config, seed in todo:
                    self.keep(self.train_cell(stage.name, config, seed))
            done[stage.name] = self.store.load(stage.name)

    def _needed_by(self, name):
        by_name = {s.name: s for s in self.stages}
        needed, todo = set(), list(by_name[name].needs)
        while todo:
            n = todo.pop()
            if n not in needed:
                needed.add(n)
                todo.extend(by_name[n].needs)
        return needed

    def _config(self, stage, configs, arm):
        for c in configs:
            if c.name == arm:
                return c
        raise SuiteError(f"{self.entry.id} stage {stage.name!r} has no arm {arm!r}; "
                         f"arms: {', '.join(c.name for c in configs)}")

    def _announce_stage(self, stage, configs, seeds):
        seed_text = f"{len(seeds)} seed(s)" if stage.seeds == "all" else f"seed {', '.join(map(str, seeds))}"
        self.progress.line(f"stage {stage.name}: {len(configs)} arm(s) x {seed_text}")

    def _check_stored(self, stage, config, seed, inputs):
        stored = self.store.load_one(stage, config.name, seed)
        path = self.store.path(stage, config.name, seed)
        if stored["config"] != as_stored(dataclasses.asdict(config)):
            raise SuiteError(f"{path} was stored with another config; rerun with --fresh to start over")
        if stored.get("options", {}) != inputs:
            raise SuiteError(f"{path} was stored with other options ({stored.get('options', {})} vs {inputs}); "
                             f"rerun with --fresh to start over")
        return stored

    def _pending(self, stage, config, seed, artifacts=()):
        """Whether a cell must train: not stored, or stored without one of the named artifacts."""
        if not self.store.has(stage, config.name, seed):
            return True
        stored = self._check_stored(stage, config, seed, as_stored(task_options.changed(self.options)))
        missing = self.store.missing_artifacts(stored, list(artifacts) or None)
        if not missing:
            self.progress.skip(stage_rules.units(config))
            return False
        self.progress.line(f"{stage} {config.name} seed {seed} is stored without {', '.join(missing)} "
                           "(artifacts are not committed): training it again")
        return True

    def config_of(self, stage, arm):
        """The config of `arm` in `stage`, resolved from the stored runs of the stages it needs."""
        by_name = {s.name: s for s in self.stages}
        done = {name: self.store.load(name) for name in by_name[stage].needs}
        return self._config(by_name[stage], by_name[stage].resolve(done), arm)

    def train_cell(self, stage, config, seed):
        """Train one cell (seeded, in a fresh artifact folder) and return its record, not yet stored."""
        inputs = as_stored(task_options.changed(self.options))
        folder = self.store.fresh_artifact_dir(stage, config.name, seed)
        self.progress.start(f"{stage} {config.name} seed {seed}")
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        ctx = TrainContext(self.entry.id, self.backend, self.profile, stage, seed, self.progress, self.options,
                           folder, self)
        t0 = time.perf_counter()
        out = self.module.train(config, ctx)
        files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        if not files:
            folder.rmdir()
        record = {
            "task": self.entry.id, "backend": self.backend, "profile": self.profile.label, "stage": stage,
            "arm": config.name, "seed": seed, "config": dataclasses.asdict(config), "options": inputs,
            **out, "wall_s": time.perf_counter() - t0,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "env": environment.describe(),
        }
        if files:
            record["artifacts"] = files
        return record

    def keep(self, record):
        """Store a trained cell's record (atomically) and say if it diverged."""
        self.store.save(record)
        self.store.forget_failure(record["stage"], record["arm"], record["seed"])
        for tracker in self.trackers:
            tracker.cell(record)
        if record.get("status") == "diverged":
            self.progress.line(f"{record['arm']} seed {record['seed']} diverged at epoch "
                               f"{record.get('diverged_epoch')}; going on")

    def upstream(self, task, stage, arm, seed, artifacts=(), reseed=None):
        """See `TrainContext.upstream`."""
        entry = registry.entry(task)
        study = self if entry.id == self.entry.id else Study(
            entry, registry.load(task), self.profile, self.results_dir,
            progress=Progress(f"{entry.id} {self.backend} {self.profile.label}", 0))
        task = entry.id
        names = [s.name for s in study.stages]
        if stage not in names:
            raise SuiteError(f"{task} has no stage {stage!r}; stages: {', '.join(names)}")
        if study.store.has(stage, arm, seed):
            record = study.store.load_one(stage, arm, seed)
            if not study.store.missing_artifacts(record, list(artifacts) or None):
                return Upstream(record, study.store.artifact_dir(stage, arm, seed))
        if study is self:
            raise SuiteError(f"{task} {stage}/{arm} seed {seed} is not stored: declare {stage!r} in this stage's needs")
        self.progress.line(f"needs {task} {stage}/{arm} seed {seed}: training it first (stored under {task})")
        study.run(only=(stage, arm, seed), artifacts=artifacts)
        record = study.store.load_one(stage, arm, seed)
        missing = study.store.missing_artifacts(record, list(artifacts) or None)
        if missing:
            raise SuiteError(f"{task} {stage}/{arm} seed {seed} stored no {', '.join(missing)}")
        if reseed is not None:  # the caller's random stream does not depend on this detour
            keras.backend.clear_session()
            keras.utils.set_random_seed(reseed)
        return Upstream(record, study.store.artifact_dir(stage, arm, seed))


def _announce(study, fresh):
    p, profile = study.progress, study.profile
    p.line(f"{study.entry.id}: {study.entry.title}")
    p.line(f"{len(study.stages)} stage(s): {', '.join(s.name for s in study.stages)}; "
           f"{profile.seeds} seed(s) per arm, profile {profile.label}, backend {study.backend}")
    changed = task_options.changed(study.options)
    if changed:
        p.line("options: " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    est = estimate.seconds(study.results_dir, study.entry.id, study.backend, profile,
                           skip_stored=study.store if not fresh else None)
    if est:
        p.line(f"estimated time: about {est.seconds / 60:.0f} min ({est.basis})")
        if profile.name == "full" and est.seconds > LONG_ON_CPU_S and not environment.accelerators():
            p.line("no GPU found: `--profile quick` gives a smaller study in a fraction of the time")


def run(task_id, profile, results_dir, fresh=False, options=None, workers=1, track=()):
    """Train every (stage, arm, seed) of `task_id` not yet stored, on the current Keras backend.

    Args:
        task_id: e.g. `"task07"`, or the path of a study module outside `tasks/`.
        profile: a `suite.study.profiles.Profile` (overrides applied).
        results_dir: root of the results store.
        fresh: delete this task's stored results and artifacts for this backend and profile first.
        options: an instance of the task's `Options` (default: its defaults).
        workers: processes that train a stage's cells side by side (`suite.study.parallel`).
        track: trackers that mirror the stored cells (`suite.tracking`: "mlflow", "tensorboard").
    """
    return run_module(registry.entry(task_id), registry.load(task_id), profile, results_dir, fresh, options, workers,
                      track)


def run_module(entry, module, profile, results_dir, fresh=False, options=None, workers=1, track=()):
    """`run` for a given catalogue entry and task module (tests pass small synthetic tasks)."""
    data.require(getattr(module, "DATA", ()))
    study = Study(entry, module, profile, results_dir, options)
    with study.store.lock():
        if fresh:
            study.store.clear()
        study.trackers = tracking.open_trackers(track, results_dir, entry.id, study.backend, profile.label)
        _announce(study, fresh)
        study.run(workers=workers)
        for tracker in study.trackers:
            tracker.sync(study.store)
    failed = study.store.failures()
    if failed:
        study.progress.line(f"{len(failed)} cell(s) failed and are not stored: "
                            + ", ".join(f"{f['stage']}/{f['arm']} seed {f['seed']}" for f in failed)
                            + "; rerun the same command to retry them")
    study.progress.line(f"done: results in {study.store.dir}")
    return study.store
