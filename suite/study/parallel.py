"""Train a stage's cells in several processes on this machine (`suite.run --workers N`).

Each worker is a fresh process (the Keras backend is fixed at import) with its share of the
cores: `suite.backend.thread_env` before Keras loads, `limit_threads` after, recorded in every
result (`env.thread_env`). Workers receive cells as `(stage, arm, seed)` names, resolve the
config from the stored runs, train it and send the record back; only the driver writes records,
atomically, as they arrive. A worker that dies (killed, out of memory) has its cell retried up
to `RETRIES` times in a new worker; a cell that raises is noted as failed
(`failed-seed<k>.json`, listed in the writeup; a rerun retries it) and the stage goes on.
"""

import multiprocessing
import os
import queue
import time
import traceback

RETRIES = 2


def _worker(spec, jobs, results):
    """Worker process: build the study once, then train the cells it is sent until told to stop."""
    task, backend, profile, results_dir, options, threads = spec
    os.environ.update({"KERAS_BACKEND": backend, "SUITE_WORKER_THREADS": str(threads)})
    from suite import backend as adapters

    os.environ.update(adapters.thread_env(threads))
    from suite.backend import quiet

    quiet.import_keras()
    quiet.import_tensorflow()
    adapters.limit_threads(threads)
    from suite.study import options as task_options, registry, runner
    from suite.study.progress import Progress

    module = registry.load(task)
    opts = task_options.declared(module)(**options)
    study = runner.Study(registry.entry(task), module, profile, results_dir, opts,
                         progress=Progress(f"{registry.task_id(task)} {backend} {profile.label} w{os.getpid()}", 0))
    while (job := jobs.get()) is not None:
        stage, arm, seed = job
        try:
            record = study.train_cell(stage, study.config_of(stage, arm), seed)
            results.put(("done", os.getpid(), job, record))
        except Exception as e:  # the cell failed; the worker and the study go on
            results.put(("failed", os.getpid(), job, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=4)}"))


class _Pool:
    def __init__(self, spec, workers):
        self.ctx = multiprocessing.get_context("spawn")
        self.spec, self.results = spec, self.ctx.Queue()
        self.procs = {}  # pid -> (process, its job queue, the job it runs or None)
        for _ in range(workers):
            self.start()

    def start(self):
        jobs = self.ctx.Queue()
        proc = self.ctx.Process(target=_worker, args=(self.spec, jobs, self.results), daemon=True)
        proc.start()
        self.procs[proc.pid] = [proc, jobs, None]

    def idle(self):
        return [pid for pid, (_, _, job) in self.procs.items() if job is None]

    def give(self, pid, job):
        self.procs[pid][1].put(job)
        self.procs[pid][2] = job

    def dead(self):
        """Jobs of workers that died, each worker replaced by a new one."""
        lost = []
        for pid, (proc, _, job) in list(self.procs.items()):
            if not proc.is_alive():
                del self.procs[pid]
                lost.append(job)
                self.start()
        return [job for job in lost if job is not None]

    def close(self, force=False):
        for proc, jobs, _ in self.procs.values():
            if force:
                proc.terminate()
            else:
                jobs.put(None)
        for proc, _, _ in self.procs.values():
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()


def train_cells(study, stage, todo, workers):
    """Train `todo` (a list of `(config, seed)`) of `stage` on `workers` processes, storing each
    record as it arrives; see the module docstring for faults."""
    from suite.study import options as task_options

    spec = (study.entry.path or study.entry.id, study.backend, study.profile, str(study.results_dir),
            task_options.changed(study.options), max(1, (os.cpu_count() or 1) // workers))
    pending = [(stage, c.name, seed) for c, seed in todo]
    units = {(stage, c.name, seed): getattr(c, "epochs", 1) for c, seed in todo}
    tries, done, t0 = {job: 0 for job in pending}, 0, time.perf_counter()
    study.progress.line(f"stage {stage}: {len(pending)} cells on {workers} workers, {spec[-1]} thread(s) each")
    pool = _Pool(spec, min(workers, len(pending)))
    try:
        while pending or any(job for _, _, job in pool.procs.values()):
            for pid in pool.idle():
                if pending:
                    pool.give(pid, pending.pop(0))
            try:
                kind, pid, job, payload = pool.results.get(timeout=1.0)
            except queue.Empty:
                for job in pool.dead():
                    tries[job] += 1
                    if tries[job] <= RETRIES:
                        study.progress.line(f"worker running {'/'.join(map(str, job))} died; retrying "
                                            f"({tries[job]} of {RETRIES})")
                        pending.insert(0, job)
                    else:
                        study.store.save_failure(*job, f"its worker died {tries[job]} times")
                        study.progress.line(f"{'/'.join(map(str, job))}: worker died {tries[job]} times; recorded "
                                            "as failed, going on")
                continue
            pool.procs[pid][2] = None
            done += 1
            if kind == "done":
                study.keep(payload)
            else:
                study.store.save_failure(*job, payload)
                study.progress.line(f"{'/'.join(map(str, job))} failed ({payload.splitlines()[0]}); "
                                    "recorded, going on (a rerun retries it)")
            study.progress.skip(units[job])  # its epochs were counted by the worker, not here
            elapsed = time.perf_counter() - t0
            left = len(units) - done
            study.progress.line(f"{done}/{len(units)} cells of stage {stage} done"
                                + (f", about {elapsed / done * left / 60:.1f} min left" if left else ""))
    except BaseException:
        pool.close(force=True)
        raise
    pool.close()
