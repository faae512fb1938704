"""Stages as data on tiny synthetic studies: a pretrain stage whose weights a later stage loads
through `ctx.upstream`, in the same task and across tasks; resume, --fresh, missing upstream runs
and missing artifacts; task options; loud errors for names no stored run has."""

import textwrap

import pytest

from suite import SuiteError
from suite.study import options, registry, runner
from suite.study.profiles import make_profile
from suite.study.results import Runs

COMMON = '''
from dataclasses import dataclass

import keras
import numpy as np

from suite.data.store import Split
from suite.models.mlp import mlp
from suite.study.stages import Stage
from suite.training.fit import fit_classifier

TITLE, REPORT, QUESTION = "{name}", "{name}.md", "q?"
CALLS = []


@dataclass(frozen=True)
class Config:
    name: str
    lr: float = 0.1
    epochs: int = 1


def data():
    rng = np.random.default_rng(0)
    x = rng.random((96, 4, 4), dtype=np.float32)
    y = (x.reshape(96, -1).mean(1) > 0.5).astype(np.int64)
    return Split(x[:64], y[:64], x[64:80], y[64:80], x[80:], y[80:])


def model():
    return mlp(hidden=(8,), input_shape=(4, 4), classes=2)


def fit(c, m):
    return fit_classifier(m, data(), keras.optimizers.SGD(c.lr), c.epochs, 16)


def analyze(runs, ctx):
    ctx.writeup.finding(f"{{len(runs)}} runs")
'''

UP = COMMON + '''

def stages(profile, options):
    return [Stage("pretrain", [Config("a"), Config("b", lr=0.05)])]


def train(c, ctx):
    CALLS.append((ctx.stage, c.name, ctx.seed))
    m = model()
    out = fit(c, m)
    m.save_weights(ctx.artifact_dir / "model.weights.h5")
    return out
'''

DOWN = COMMON + '''

def stages(profile, options):
    return [Stage("pretrain", [Config("a")]),
            Stage("finetune", lambda done: [Config(f"from_{{r['arm']}}") for r in done["pretrain"]],
                  needs=("pretrain",)),
            Stage("borrow", [Config("a")])]


def train(c, ctx):
    CALLS.append((ctx.stage, c.name, ctx.seed))
    m = model()
    if ctx.stage == "finetune":
        up = ctx.upstream("pretrain", c.name[5:])
        m.load_weights(up.artifact("model.weights.h5"))
    if ctx.stage == "borrow":
        up = ctx.upstream("pretrain", c.name, task="{up}", artifacts=("model.weights.h5",))
        m.load_weights(up.artifact("model.weights.h5"))
        return {{"metrics": {{"up_val_loss": up.record["metrics"]["best_val_loss"]}}, "history": {{}},
                "status": "ok"}}
    out = fit(c, m)
    if ctx.stage == "pretrain":
        m.save_weights(ctx.artifact_dir / "model.weights.h5")
    return out
'''


@pytest.fixture
def studies(tmp_path):
    up = tmp_path / "up_study.py"
    up.write_text(UP.format(name="up_study"))
    down = tmp_path / "down_study.py"
    down.write_text(DOWN.format(name="down_study", up=str(up)))
    mods = {}
    for path in (up, down):
        mods[path.stem] = (registry.entry(str(path)), registry.load(str(path)))
        mods[path.stem][1].CALLS.clear()
    return mods, tmp_path / "results"


def _run(mods, name, results, seeds=1, fresh=False):
    entry, module = mods[name]
    return runner.run_module(entry, module, make_profile("smoke", seeds=seeds), results, fresh=fresh)


def test_stages_run_in_order_and_a_later_stage_loads_earlier_weights(studies):
    mods, results = studies
    store = _run(mods, "down_study", results, seeds=2)
    calls = mods["down_study"][1].CALLS
    assert [c[0] for c in calls] == ["pretrain"] * 2 + ["finetune"] * 2 + ["borrow"] * 2
    assert {r["arm"] for r in store.load("finetune")} == {"from_a"}
    pre = store.load_one("pretrain", "a", 1)
    assert pre["artifacts"] == ["model.weights.h5"]
    assert (store.artifact_dir("pretrain", "a", 1) / "model.weights.h5").is_file()
    assert "artifacts" not in store.load_one("finetune", "from_a", 0)  # it saved nothing

    calls.clear()
    _run(mods, "down_study", results, seeds=2)  # everything is stored: nothing trains
    assert calls == []


def test_a_missing_upstream_run_of_another_task_is_trained_first_under_that_task(studies):
    mods, results = studies
    down = _run(mods, "down_study", results)
    up_calls = mods["up_study"][1].CALLS
    assert up_calls == [("pretrain", "a", 0)]  # only the cell asked for, not arm b
    up_store = runner.ResultStore(results, "up_study", down.dir.parts[-2], "smoke")
    assert up_store.has("pretrain", "a", 0) and not up_store.has("pretrain", "b", 0)
    borrowed = down.load_one("borrow", "a", 0)["metrics"]["up_val_loss"]
    assert borrowed == up_store.load_one("pretrain", "a", 0)["metrics"]["best_val_loss"]

    up_calls.clear()
    _run(mods, "up_study", results)  # the upstream task now trains only what it lacks
    assert up_calls == [("pretrain", "b", 0)]


def test_an_upstream_run_without_its_artifacts_is_trained_again(studies):
    mods, results = studies
    _run(mods, "up_study", results)
    up_store = runner.ResultStore(results, "up_study", _run(mods, "up_study", results).dir.parts[-2], "smoke")
    (up_store.artifact_dir("pretrain", "a", 0) / "model.weights.h5").unlink()  # e.g. a fresh clone
    mods["up_study"][1].CALLS.clear()
    _run(mods, "down_study", results)
    assert mods["up_study"][1].CALLS == [("pretrain", "a", 0)]
    assert (up_store.artifact_dir("pretrain", "a", 0) / "model.weights.h5").is_file()


def test_fresh_removes_records_and_artifacts(studies):
    mods, results = studies
    store = _run(mods, "up_study", results)
    assert store.artifact_dir("pretrain", "a", 0).is_dir()
    store.clear()
    assert not list(store.dir.rglob("*.json")) and not list(store.dir.rglob("*.artifacts"))
    mods["up_study"][1].CALLS.clear()
    _run(mods, "up_study", results, fresh=True)
    assert len(mods["up_study"][1].CALLS) == 2


def test_reaching_an_undeclared_stage_of_the_own_task_is_an_error(tmp_path):
    path = tmp_path / "bad_study.py"
    path.write_text(COMMON.format(name="bad_study") + textwrap.dedent('''
        def stages(profile, options):
            return [Stage("main", [Config("a")])]

        def train(c, ctx):
            ctx.upstream("main", "zzz")
    '''))
    with pytest.raises(SuiteError, match="is not stored"):
        runner.run_module(registry.entry(str(path)), registry.load(str(path)), make_profile("smoke"),
                          tmp_path / "r")


def test_stage_declarations_are_checked(tmp_path):
    from suite.study.stages import Stage, check

    with pytest.raises(SuiteError, match="needs pretrain, which do not run before it"):
        check([Stage("main", [], needs=("pretrain",)), Stage("pretrain", [])], "t")
    with pytest.raises(SuiteError, match="twice"):
        check([Stage("main", []), Stage("main", [])], "t")


def test_options_parse_types_and_name_the_valid_keys():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Opts:
        images: tuple[str, ...] = options.option((), "paths")
        width: int = options.option(64, "hidden units")
        rate: float | None = options.option(None, "a rate")
        flip: bool = options.option(False, "flip")

    got = options.parse(Opts, ["images=a.png, b.png", "width=128", "rate=0.5", "flip=yes"])
    assert got == Opts(("a.png", "b.png"), 128, 0.5, True)
    assert options.changed(got) == {"images": ("a.png", "b.png"), "width": 128, "rate": 0.5, "flip": True}
    assert options.changed(Opts()) == {}
    with pytest.raises(SuiteError, match=r"unknown option 'widht' \(valid keys: images, width, rate, flip\)"):
        options.parse(Opts, ["widht=3"])
    with pytest.raises(SuiteError, match="option width='many'"):
        options.parse(Opts, ["width=many"])
    with pytest.raises(SuiteError, match="expected key=value"):
        options.parse(Opts, ["width"])
    assert "width (int, default 64): hidden units" in options.describe(Opts)


def test_names_no_stored_run_has_raise_and_list_what_exists():
    runs = Runs([{"arm": "a", "seed": 0, "status": "ok", "metrics": {"test_accuracy": 0.9}, "history": {"loss": [1]}},
                 {"arm": "a", "seed": 1, "status": "diverged", "metrics": {}, "history": {"loss": [2]}}])
    assert list(runs.metric("a", "test_accuracy")) == [0.9, pytest.approx(float("nan"), nan_ok=True)]
    with pytest.raises(SuiteError, match="arm 'b'; arms: a"):
        runs.metric("b", "test_accuracy")
    with pytest.raises(SuiteError, match="metrics 'test_acuracy'; it has: test_accuracy"):
        runs.metric("a", "test_acuracy")
    with pytest.raises(SuiteError, match="history 'val_loss'; it has: loss"):
        runs.history("a", "val_loss")
