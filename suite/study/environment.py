"""What a result was produced with: versions, device, machine, command and commit."""

import functools
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import keras

from suite.backend import PACKAGES

def _version(*packages):
    for p in packages:
        try:
            return metadata.version(p)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def accelerators():
    """Accelerators the current backend sees (e.g. `["cuda:0 NVIDIA H100"]`); empty on a CPU."""
    from suite import backend

    return backend.devices()


def _git(*args):
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).resolve().parent.parent.parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def git_state():
    """`(commit, dirty)`: the checkout's short commit and whether suite/ or tasks/ have changes
    that commit does not hold (`None` when unknown, e.g. outside a git checkout)."""
    commit = _git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown", None
    return commit, bool(_git("status", "--porcelain", "--", "suite", "tasks"))


@functools.lru_cache(maxsize=1)
def describe():
    """A dict recorded with every result (and summarized in every writeup's Setup)."""
    backend = keras.backend.backend()
    commit, dirty = git_state()
    return {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": _version(*PACKAGES[backend]),
        "numpy": _version("numpy"),
        "device": ", ".join(accelerators()) or "CPU",
        "cpu": f"{cpu_name()} ({os.cpu_count()} cores)",
        "platform": platform.platform(terse=True),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "SUITE_WORKER_THREADS")
                       if k in os.environ},
        "git_commit": commit,
        "git_dirty": dirty,  # suite/ or tasks/ had uncommitted changes when the run started
    }
