"""Task ids -> catalogue entries and task modules (`tasks/taskNN_<name>.py`)."""

import importlib
import importlib.util
import tomllib
from dataclasses import dataclass
from pathlib import Path

from suite import SuiteError

_CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue.toml"
_TASKS = Path(__file__).resolve().parent.parent.parent / "tasks"


@dataclass(frozen=True)
class Entry:
    """A task of the catalogue: identity and the original study's claims."""

    id: str
    report: str
    title: str
    question: str
    claims: tuple

    @property
    def module_name(self):
        found = sorted(_TASKS.glob(f"{self.id}_*.py"))
        return f"tasks.{found[0].stem}" if found else None

    @property
    def implemented(self):
        return self.module_name is not None


def catalogue():
    """Every task of the catalogue, in id order."""
    data = tomllib.loads(_CATALOGUE.read_text())
    return [Entry(tid, e["report"], e["title"], e["question"], tuple(e["claims"])) for tid, e in sorted(data.items())]


def entry(task_id):
    for e in catalogue():
        if e.id == task_id:
            return e
    known = ", ".join(e.id for e in catalogue())
    raise SuiteError(f"unknown task {task_id!r}: choose one of {known} (or 'list', 'all')")


def load(task_id):
    """The task module of `task_id`; a `SuiteError` if it is unknown or not implemented yet."""
    e = entry(task_id)
    if not e.implemented:
        raise SuiteError(f"{task_id} ({e.title}) is in the catalogue but not implemented yet; "
                         f"see `python -m suite.run list`")
    return importlib.import_module(e.module_name)


def implemented():
    return [e.id for e in catalogue() if e.implemented]
