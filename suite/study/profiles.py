"""Profiles (how big a run is) and the run specification the runner executes."""

import dataclasses
from dataclasses import dataclass

from suite import SuiteError
from suite.backend import BACKENDS



@dataclass(frozen=True)
class Profile:
    """How much of a study to run (DESIGN.md section 4).

    Args:
        name: `"smoke"`, `"quick"` or `"full"`.
        seeds: number of seeds per arm.
        train_size: `--subset` override of the training examples used (`None`: the task's own
            size for this profile).
        epochs: `--epochs` override of the epochs per arm (`None`: the task's own default).
    """

    name: str
    seeds: int
    train_size: int | None = None
    epochs: int | None = None

    @property
    def label(self):
        """Name of the results folder: the profile's name, plus the overrides that change each run.

        `--epochs` and `--subset` change what every run is, so such runs are stored apart from the
        profile's own (e.g. `quick-epochs5`); `--seeds` only adds or leaves out runs.
        """
        parts = [self.name]
        if self.epochs is not None:
            parts.append(f"epochs{self.epochs}")
        if self.train_size is not None:
            parts.append(f"subset{self.train_size}")
        return "-".join(parts)

    def pick(self, **by_profile):
        """The value for this profile from keyword arguments named after the profiles.

        Example: `profile.pick(smoke=1, quick=5, full=20)`.
        """
        if self.name not in by_profile:
            raise KeyError(f"no value given for profile {self.name!r}")
        return by_profile[self.name]

    def epochs_or(self, **by_profile):
        """The `--epochs` override if given, else the task's value for this profile."""
        return self.epochs if self.epochs is not None else self.pick(**by_profile)

    def subset_or(self, **by_profile):
        """The `--subset` override if given, else the task's training-set size for this profile."""
        return self.train_size if self.train_size is not None else self.pick(**by_profile)


PROFILES = {
    "smoke": Profile("smoke", seeds=1),
    "quick": Profile("quick", seeds=2),
    "full": Profile("full", seeds=3),
}


def make_profile(name, seeds=None, epochs=None, subset=None):
    """The named profile with the CLI's `--seeds`, `--epochs` and `--subset` overrides applied."""
    if name not in PROFILES:
        raise SuiteError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}")
    for flag, value in (("--seeds", seeds), ("--epochs", epochs), ("--subset", subset)):
        if value is not None and value < 1:
            raise SuiteError(f"{flag} must be a positive integer, got {value}")
    profile = PROFILES[name]
    changes = {"seeds": seeds, "epochs": epochs, "train_size": subset}
    return dataclasses.replace(profile, **{k: v for k, v in changes.items() if v is not None})


def from_label(label):
    """The profile a results label names (`"quick"`, `"quick-epochs5-subset1000"`)."""
    name, *parts = label.split("-")
    given = {"epochs": None, "subset": None}
    for part in parts:
        key = part.rstrip("0123456789")
        if key not in given or key == part:
            raise SuiteError(f"unreadable profile label {label!r}")
        given[key] = int(part[len(key):])
    return make_profile(name, epochs=given["epochs"], subset=given["subset"])


def check_backend(name):
    """Raise a `SuiteError` unless `name` is a supported Keras backend."""
    if name not in BACKENDS:
        raise SuiteError(f"unknown backend {name!r}: choose one of {', '.join(BACKENDS)} or all")
    return name
