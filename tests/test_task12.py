"""task12 end to end in the smoke profile: training its models itself, and reusing task11's weights."""

import shutil

import pytest

from conftest import BACKENDS, suite_cli
from test_task11 import ABOVE_CHANCE, cifar_available  # noqa: F401  (fixture)

PROBES = ("shift_0", "shift_4", "shift_8", "mask_centre_0.25", "mask_border_0.25", "mask_centre_0.5",
          "mask_border_0.5", "top_share", "null_top_share_q99")


def _check(records, source):
    assert {r["arm"] for r in records} == {"plain", "crop_flip"}
    for r in records:
        m = r["metrics"]
        assert r["status"] == "ok" and r["weights_source"] == source
        assert m["test_accuracy"] > ABOVE_CHANCE, (r["arm"], m["test_accuracy"])
        for k in PROBES:
            assert 0 <= m[k] <= 1, k
        assert m["shift_drop_0"] == 0 and m["shift_drop_4"] == pytest.approx(m["shift_0"] - m["shift_4"])
        assert all(g["pred"] != g["true"] for g in r["gallery"]) and r["gallery"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_task12_smoke_trains_without_task11(smoke, backend, cifar_available):
    run = smoke("task12", backend)
    _check(run.records("main"), "trained")
    text = run.writeup()
    assert "## Seed claims" in text and "errors are structured" in text
    assert (run.submission / "figures" / "task12_probes.png").stat().st_size > 10_000


def test_task12_reuses_task11_weights(smoke, tmp_path, cifar_available):
    """Regression guard: task12 must not retrain models task11 stored with the same config."""
    task11 = smoke("task11", "jax")
    results = tmp_path / "results"
    shutil.copytree(task11.results, results)
    proc = suite_cli(["task12", "--backend", "jax", "--profile", "smoke", "--results-dir", str(results),
                      "--submission-dir", str(tmp_path / "submission")], "jax")
    assert proc.returncode == 0, proc.stderr[-4000:]
    import json

    records = [json.loads(p.read_text()) for p in sorted((results / "task12/jax/smoke/main").glob("*/seed*.json"))]
    _check(records, "task11")
    by_arm = {r["arm"]: r for r in records}
    for r in task11.records("main"):  # same weights, same test images: the same accuracy
        assert by_arm[r["arm"]]["metrics"]["test_accuracy"] == pytest.approx(r["metrics"]["test_accuracy"], abs=1e-6)
    assert not list((results / "task12").rglob("*.weights.h5"))
