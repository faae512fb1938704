"""How long a study will take, from the stored runs' own wall times (never from typed-in constants).

The reference is the same task and profile label in the results folder, on this backend if it
ran there, else on another backend (said so); then the suite's shipped `results/`. Seeded
stages scale with the number of seeds asked for; one-seed stages do not.
"""

import json
from dataclasses import dataclass
from pathlib import Path

from suite.study.stages import ONE_SEED

SHIPPED = Path(__file__).resolve().parent.parent.parent / "results"


@dataclass(frozen=True)
class Estimate:
    seconds: float
    basis: str  # where the number comes from, in words


def _records(folder):
    out = []
    for path in folder.glob("*/*/seed*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        out.append((record.get("seed"), float(record.get("wall_s", 0.0))))
    return out


def _scaled(records, seeds):
    seeded = [(s, w) for s, w in records if s != ONE_SEED]
    stored_seeds = len({s for s, _ in seeded}) or 1
    return sum(w for s, w in records if s == ONE_SEED) + sum(w for _, w in seeded) * seeds / stored_seeds


def seconds(results_dir, task, backend, profile, skip_stored=None):
    """An `Estimate` of the study's remaining training time, or `None` when nothing was measured.

    Args:
        results_dir: the results folder of this run.
        task, backend: the study and the backend it runs on.
        profile: a `suite.study.profiles.Profile` (its label and seeds are used).
        skip_stored: the run's own `ResultStore`; time already stored there is not counted again.
    """
    roots = list(dict.fromkeys([Path(results_dir).resolve(), SHIPPED]))
    for root in roots:
        by_backend = sorted((root / task).glob(f"*/{profile.label}")) if (root / task).is_dir() else []
        by_backend.sort(key=lambda f: f.parent.name != backend)  # this backend first
        for folder in by_backend:
            records = _records(folder)
            if not records:
                continue
            total = _scaled(records, profile.seeds)
            if skip_stored is not None and skip_stored.dir.is_dir():
                total -= sum(w for _, w in _records(skip_stored.dir))
            where = "" if folder.parent.name == backend else f" on {folder.parent.name}"
            basis = f"{len(records)} measured runs of this profile{where}, in {root.name}/"
            return Estimate(max(total, 0.0), basis)
    return None
