"""Task ids -> catalogue entries and task modules (`tasks/taskNN_<name>.py`, or a study file).

A study outside `tasks/` is named by its path (`python -m suite.run my_study.py`): its id is
the file's stem, and its identity comes from the module itself (`TITLE`, `REPORT`,
`QUESTION`, optionally `CLAIMS`) instead of the catalogue.
"""

import importlib
import importlib.util
import sys
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
    path: str | None = None  # the study file, for a study outside tasks/

    @property
    def module_name(self):
        if self.path:
            return f"suite_study_{self.id}"
        found = sorted(_TASKS.glob(f"{self.id}_*.py"))
        return f"tasks.{found[0].stem}" if found else None

    @property
    def implemented(self):
        return self.module_name is not None


def catalogue():
    """Every task of the catalogue, in id order."""
    data = tomllib.loads(_CATALOGUE.read_text())
    return [Entry(tid, e["report"], e["title"], e["question"], tuple(e["claims"])) for tid, e in sorted(data.items())]


_FILES = {}  # study id -> Entry, for the study files loaded in this process


def is_file(task_id):
    return str(task_id).endswith(".py")


def _file_entry(path):
    path = Path(path)
    if not path.is_file():
        raise SuiteError(f"no study file {path}")
    module = _import_file(path)
    missing = [k for k in ("TITLE", "REPORT", "QUESTION", "stages", "train", "analyze") if not hasattr(module, k)]
    if missing:
        raise SuiteError(f"{path} is not a study module: it lacks {', '.join(missing)} (see the README's example)")
    e = Entry(path.stem, module.REPORT, module.TITLE, module.QUESTION, tuple(getattr(module, "CLAIMS", ())),
              str(path.resolve()))
    _FILES[e.id] = e
    return e


def _import_file(path):
    name = f"suite_study_{path.stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


def task_id(name):
    """The id of a task or study file, without importing anything (a `SuiteError` if unknown)."""
    if is_file(name):
        if not Path(name).is_file():
            raise SuiteError(f"no study file {name}")
        return Path(name).stem
    return entry(name).id


def entry(task_id):
    """The catalogue entry of `task_id` (a task id, or the path of a study file)."""
    if is_file(task_id):
        return _file_entry(task_id)
    if task_id in _FILES:
        return _FILES[task_id]
    for e in catalogue():
        if e.id == task_id:
            return e
    known = ", ".join(e.id for e in catalogue())
    raise SuiteError(f"unknown task {task_id!r}: choose one of {known}, 'list', 'all', or a study file (.py)")


def load(task_id):
    """The task module of `task_id`; a `SuiteError` if it is unknown or not implemented yet."""
    e = entry(task_id)
    if e.path:
        return _import_file(Path(e.path))
    if not e.implemented:
        raise SuiteError(f"{task_id} ({e.title}) is in the catalogue but not implemented yet; "
                         f"see `python -m suite.run list`")
    return importlib.import_module(e.module_name)


def implemented():
    return [e.id for e in catalogue() if e.implemented]
