"""A study's stages: which configs run, with which seeds, after which earlier stages.

A task declares `stages(profile, options) -> [Stage, ...]`. A selection step that chooses a
learning rate, a pretraining step whose weights a transfer step loads, or one stage that
evaluates another task's models are all stages; the runner runs them in order.

Example:
    >>> def stages(profile, options):  # doctest: +SKIP
    ...     return [Stage("select", [Config("lr0.1", 0.1), Config("lr0.01", 0.01)], seeds="one"),
    ...             Stage("main", lambda done: [best_of(done["select"])], needs=("select",))]
"""

from dataclasses import dataclass
from typing import Callable, Sequence

from suite import SuiteError

ONE_SEED = 1000  # the seed of `seeds="one"` stages: no "all seeds" stage uses it


@dataclass(frozen=True)
class Stage:
    """One stage of a study.

    Args:
        name: folder name of its results (e.g. `"select"`, `"main"`, `"pretrain"`).
        configs: the arms, frozen dataclasses with a `name` field; or a function of
            `{stage name: Runs}` for the stages in `needs` that returns them (so an earlier
            stage's results can shape this one's arms).
        seeds: `"all"` (the profile's seeds `0..S-1`), `"one"` (`ONE_SEED` only), or an
            explicit sequence of seeds. Defaults to `"all"`.
        needs: names of earlier stages whose stored runs `configs` reads. Defaults to `()`.
    """

    name: str
    configs: Sequence | Callable
    seeds: str | Sequence[int] = "all"
    needs: tuple = ()

    def resolve(self, done):
        """The stage's configs, given `done` = `{stage name: Runs}` of the stages run before it.

        A config listed twice (e.g. one per stored seed of the arm it derives from) is one arm;
        two different configs with one name are an error."""
        configs = self.configs({name: done[name] for name in self.needs}) if callable(self.configs) else self.configs
        arms = {}
        for config in configs:
            if arms.setdefault(config.name, config) != config:
                raise SuiteError(f"stage {self.name!r} lists two different configs named {config.name!r}")
        return list(arms.values())

    def seed_list(self, profile):
        if self.seeds == "all":
            return list(range(profile.seeds))
        if self.seeds == "one":
            return [ONE_SEED]
        return [int(s) for s in self.seeds]


def check(stages, task):
    """Raise a `SuiteError` unless stage names are unique and each `needs` names an earlier stage."""
    if not stages:
        raise SuiteError(f"{task} declares no stages")
    seen = []
    for stage in stages:
        if stage.name in seen:
            raise SuiteError(f"{task} declares stage {stage.name!r} twice")
        unknown = [n for n in stage.needs if n not in seen]
        if unknown:
            raise SuiteError(f"{task}: stage {stage.name!r} needs {', '.join(unknown)}, which do not run before it "
                             f"(earlier stages: {', '.join(seen) or 'none'})")
        seen.append(stage.name)
    return stages


def units(config):
    """Progress units of one run of `config`: its epochs when it trains epochs, else 1."""
    return max(int(getattr(config, "epochs", 1) or 1), 1)
