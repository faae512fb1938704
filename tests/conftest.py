"""Shared fixtures. The real MNIST comes from $SUITE_DATA_DIR (CI: ../shared/data)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# In-process tests use JAX (fastest to start); end-to-end tests pick their backend per subprocess.
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("tensorflow", "jax", "torch")
DATA_DIR = Path(os.environ.get("SUITE_DATA_DIR", ROOT.parent / "shared" / "data"))
os.environ["SUITE_DATA_DIR"] = str(DATA_DIR)
os.environ["SUITE_OFFLINE"] = "1"  # tests never reach the network


def suite_cli(args, backend="jax", env=None, timeout=900, module="suite.run"):
    """Run `python -m suite.run ARGS` in a fresh process on `backend`; returns CompletedProcess."""
    env = {**os.environ, "KERAS_BACKEND": backend, "SUITE_DATA_DIR": str(DATA_DIR),
           "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    if not backend:  # as from a plain shell: no KERAS_BACKEND at all
        del env["KERAS_BACKEND"]
    command = [sys.executable, *(["-m", module] if module else []), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


class SmokeRun:
    """One task's smoke-profile run on one backend: where its results and writeup went."""

    def __init__(self, task, backend, root):
        self.task, self.backend = task, backend
        self.results = root / "results"
        self.submission = root / "submission"
        self.proc = suite_cli([task, "--backend", backend, "--profile", "smoke", "--results-dir", str(self.results),
                               "--submission-dir", str(self.submission)], backend)

    def records(self, stage="main"):
        folder = self.results / self.task / self.backend / "smoke" / stage
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*/seed*.json"))]

    def writeup(self):
        found = list(self.submission.glob("Task*.md"))
        assert len(found) == 1, found
        return found[0].read_text()


@pytest.fixture(scope="session")
def smoke(tmp_path_factory):
    """`smoke(task, backend)`: run (once per session) a task's smoke profile in a subprocess."""
    cache = {}

    def get(task, backend):
        if (task, backend) not in cache:
            run = SmokeRun(task, backend, tmp_path_factory.mktemp(f"{task}_{backend}"))
            assert run.proc.returncode == 0, run.proc.stderr[-4000:]
            cache[task, backend] = run
        return cache[task, backend]

    return get


@pytest.fixture(scope="session")
def mnist_available():
    if not (DATA_DIR / "mnist.npz").is_file():
        pytest.skip(f"no MNIST copy in {DATA_DIR}")
