"""What a result was produced with: versions, device, machine, command and commit."""

import functools
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import keras

_BACKEND_PACKAGES = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "jax": ("jax",), "torch": ("torch",)}


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


@functools.lru_cache(maxsize=1)
def describe():
    """A dict recorded with every result (and summarized in every writeup's Setup)."""
    backend = keras.backend.backend()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": _version(*_BACKEND_PACKAGES[backend]),
        "numpy": _version("numpy"),
        "device": ", ".join(accelerators()) or "CPU",
        "cpu": f"{cpu_name()} ({os.cpu_count()} cores)",
        "platform": platform.platform(terse=True),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY") if k in os.environ},
        "git_commit": commit or "unknown",
    }
