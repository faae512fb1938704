"""`--track mlflow`: one parent run per (task, backend, profile), one nested child run per cell.

The tracking URI is `$MLFLOW_TRACKING_URI`, else a SQLite store `<results>/mlflow/mlflow.db`
with artifacts in `<results>/mlflow/artifacts/` (MLflow 3 refuses new file stores). The
experiment is named after the task. The parent has params task, backend, profile, the git
commit of its newest run as a tag, and the writeup and its figures as artifacts. A child
(tag `mlflow.parentRunId`) holds the cell's config and changed options (`option.<key>`) as
params, its curves (`suite.tracking.curves`) as metrics with the epoch as step, its final
metrics as `final/<key>` at step 0, and tags `suite.cell` (stage/arm/seed<k>), `suite.status`
(ok / diverged / failed) and `suite.finished`. A cell already logged with the same
`suite.finished` is not logged again; a retrained cell replaces its older child (deleted, so
hidden from searches; MLflow can restore it).
"""

import contextlib
import fcntl
import json
import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_GIT_COMMIT, MLFLOW_PARENT_RUN_ID

from suite import SuiteError
from suite.tracking import curves

IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
MAX_RUNS = 50000  # MLflow's cap on one search; far above any study's cells


def _metric_name(name):
    """MLflow's allowed characters (letters, digits, _ - . / and space); others become _."""
    return re.sub(r"[^\w\-./ ]", "_", name)


def _param(value):
    return value if isinstance(value, str) else json.dumps(value)


def _ms(iso):
    moment = datetime.fromisoformat(iso) if iso else datetime.now(timezone.utc)
    return int(moment.timestamp() * 1000)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Tracker:
    """Logs one task's cells on one backend and profile to MLflow (see the module docstring)."""

    def __init__(self, results_dir, task, backend, profile):
        logging.getLogger("mlflow").setLevel(logging.WARNING)  # no "creating tables" lines
        logging.getLogger("alembic").setLevel(logging.WARNING)
        os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")  # no "View run" line per cell
        self.uri = os.environ.get("MLFLOW_TRACKING_URI")
        self.local = None if self.uri else Path(results_dir).resolve() / "mlflow"
        if self.local:
            self.local.mkdir(parents=True, exist_ok=True)
            self.uri = f"sqlite:///{self.local / 'mlflow.db'}"
        self.client = MlflowClient(self.uri)
        self.keys = {"suite.task": task, "suite.backend": backend, "suite.profile": profile}
        with self._guard():
            self.experiment = self._experiment(task)
            self.parent = self._parent()
            self.children = {r.data.tags["suite.cell"]: r
                             for r in self._search(f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{self.parent}'")
                             if "suite.cell" in r.data.tags}

    @contextlib.contextmanager
    def _guard(self):
        """MLflow errors as one line; a local SQLite store is written by one process at a time
        (`--backend all` runs a process per backend)."""
        try:
            with contextlib.ExitStack() as stack:
                if self.local:
                    f = stack.enter_context(open(self.local / ".lock", "w"))
                    fcntl.flock(f, fcntl.LOCK_EX)
                yield
        except MlflowException as e:
            raise SuiteError(f"MLflow ({self.uri}): {str(e).splitlines()[0]}") from None

    def _experiment(self, task):
        found = self.client.get_experiment_by_name(task)
        if found:
            return found.experiment_id
        artifacts = (self.local / "artifacts").as_uri() if self.local else None
        try:
            return self.client.create_experiment(task, artifact_location=artifacts)
        except MlflowException:  # another process created it meanwhile
            found = self.client.get_experiment_by_name(task)
            if found is None:
                raise
            return found.experiment_id

    def _search(self, where):
        return self.client.search_runs([self.experiment], where, max_results=MAX_RUNS)

    def _parent(self):
        study = {**self.keys, "suite.role": "study"}
        found = self._search(" and ".join(f"tags.`{k}` = '{v}'" for k, v in study.items()))
        if found:
            return found[0].info.run_id
        run = self.client.create_run(self.experiment, tags=study, run_name=" ".join(self.keys.values()))
        self.client.log_batch(run.info.run_id, params=[Param(k.split(".")[1], v) for k, v in self.keys.items()])
        return run.info.run_id

    def cell(self, record):
        """Log one stored record (or failure note, `status` "failed") as a child run, unless logged already."""
        key, version = curves.cell_key(record), curves.version(record)
        old = self.children.get(key)
        if old is not None and old.data.tags.get("suite.finished") == version:
            return
        with self._guard():
            self.children[key] = self._child(record, key, version)
            if old is not None:
                self.client.delete_run(old.info.run_id)

    def _child(self, record, key, version):
        status = record.get("status", "ok")
        end = _ms(record.get("finished"))
        tags = {**self.keys, MLFLOW_PARENT_RUN_ID: self.parent, "suite.cell": key, "suite.status": status,
                "suite.finished": version}
        if record.get("env", {}).get("git_commit"):
            tags[MLFLOW_GIT_COMMIT] = record["env"]["git_commit"]
        if status == "failed":
            tags["suite.error"] = str(record.get("error", ""))[:5000]
        run = self.client.create_run(self.experiment, start_time=end - int(1000 * record.get("wall_s", 0)),
                                     tags=tags, run_name=key)
        params = {"stage": record["stage"], "arm": record["arm"], "seed": record["seed"], **record.get("config", {}),
                  **{f"option.{k}": v for k, v in record.get("options", {}).items()}}
        metrics = [Metric(_metric_name(name), value, end, step) for name, step, value in curves.points(record)]
        metrics += [Metric(_metric_name(f"final/{k}"), float(v), end, 0)
                    for k, v in record.get("metrics", {}).items() if _number(v)]
        self.client.log_batch(run.info.run_id, metrics=metrics, params=[Param(k, _param(v)) for k, v in params.items()])
        self.client.set_terminated(run.info.run_id, "FAILED" if status == "failed" else "FINISHED", end_time=end)
        return self.client.get_run(run.info.run_id)

    def sync(self, store):
        """Log every stored record and failure note not logged yet; tag the parent with the newest commit."""
        records = [r for stage in store.stages() for r in store.load(stage)]
        for record in records:
            self.cell(record)
        for note in store.failures():
            self.cell({**note, "status": "failed"})
        commits = [r["env"]["git_commit"] for r in sorted(records, key=lambda r: r.get("finished", ""))
                   if r.get("env", {}).get("git_commit")]
        with self._guard():
            if commits:
                self.client.log_batch(self.parent, tags=[RunTag(MLFLOW_GIT_COMMIT, commits[-1])])
            self.client.set_terminated(self.parent)

    def writeup(self, path):
        """Log the writeup and the local images it shows as the parent's artifacts (same relative paths)."""
        path = Path(path)
        with self._guard():
            self.client.log_artifact(self.parent, str(path))
            for ref in dict.fromkeys(IMAGE.findall(path.read_text())):
                image = path.parent / ref
                if "://" not in ref and image.is_file():
                    folder = Path(ref).parent.as_posix()
                    self.client.log_artifact(self.parent, str(image), None if folder == "." else folder)
