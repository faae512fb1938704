"""Runs survive faults and are reproducible (issue: reliability)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import BACKENDS, ROOT, suite_cli

ARGS = ["task07", "--profile", "smoke", "--epochs", "1", "--subset", "128"]


def _stored(results):
    """Every stored record, less what legitimately differs between two runs (timings, dates)."""
    out = {}
    for p in sorted(results.rglob("seed*.json")):
        r = json.loads(p.read_text())
        r["metrics"] = {k: v for k, v in r["metrics"].items() if "seconds" not in k}
        r["history"].pop("epoch_seconds")
        for key in ("wall_s", "finished", "env"):
            r.pop(key)
        out[str(p.relative_to(results))] = r
    return out


def test_killed_run_resumes_to_the_same_results(tmp_path, mnist_available):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    proc = subprocess.Popen([sys.executable, "-m", "suite.run", *ARGS, "--results-dir", str(killed),
                             "--submission-dir", str(tmp_path / "s1")], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while len(list(killed.rglob("seed*.json"))) < 4 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = len(list(killed.rglob("seed*.json")))
    assert 4 <= partial < 18
    assert not list(killed.rglob("*.tmp"))  # nothing half-written

    resumed = suite_cli([*ARGS, "--results-dir", str(killed), "--submission-dir", str(tmp_path / "s1")])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert resumed.stderr.count("| epoch 1/1") == 18 - partial  # only the missing runs were trained
    uninterrupted = suite_cli([*ARGS, "--results-dir", str(clean), "--submission-dir", str(tmp_path / "s2")])
    assert uninterrupted.returncode == 0
    assert _stored(killed) == _stored(clean)


@pytest.mark.parametrize("flags", [[], ["--deterministic"]])
@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_numbers(backend, flags, mnist_available):
    proc = subprocess.run([sys.executable, str(ROOT / "tests" / "determinism_check.py"), *flags], cwd=ROOT,
                          env={**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "identical"
