"""task11 end to end in the smoke profile on a slice of the real CIFAR-10, on every backend."""

import re

import pytest

from conftest import BACKENDS, DATA_DIR

CHANCE = 0.1
# 500 test images: 3 binomial standard errors above chance is 0.1 + 3 * sqrt(0.09 / 500) = 0.14.
ABOVE_CHANCE = 0.14


@pytest.fixture(scope="session")
def cifar_available():
    if not (DATA_DIR / "cifar10.npz").is_file():
        pytest.skip(f"no CIFAR-10 copy in {DATA_DIR}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_task11_smoke(smoke, backend, cifar_available):
    run = smoke("task11", backend)
    main = run.records("main")
    assert {r["arm"] for r in main} == {"plain", "crop_flip"}
    for r in main:
        m = r["metrics"]
        assert r["status"] == "ok" and r["env"]["backend"] == backend
        assert m["test_accuracy"] > ABOVE_CHANCE, (r["arm"], m["test_accuracy"])
        for k in ("train_accuracy_clean", "test_accuracy_exact", "final_train_accuracy"):
            assert 0 <= m[k] <= 1, k
        assert len(r["history"]["clean_train_accuracy"]) == len(r["history"]["val_accuracy"]) == r["config"]["epochs"]
        confusion = r["confusion"]
        assert sum(map(sum, confusion)) == 500  # the smoke test slice
        assert sum(confusion[k][k] for k in range(10)) / 500 == pytest.approx(m["test_accuracy"])
        # weights stored beside the record for task12 to reload
        assert (run.results / "task11" / backend / "smoke" / "main" / r["arm"] / f"seed{r['seed']}.weights.h5").is_file()
    assert {r["config"]["augment"] for r in main} == {False, True}
    text = run.writeup()
    for r in main:  # the writeup's test accuracy column is the stored one
        row = re.search(rf"^\| {r['arm']} +\|[^|]*\|[^|]*\|[^|]*\| +([0-9.]+) +\|", text, re.M)
        assert row, r["arm"]
        assert float(row.group(1)) == pytest.approx(100 * r["metrics"]["test_accuracy"], abs=0.006)
    assert "| profile | smoke |" in text and "## Seed claims" in text
    assert (run.submission / "figures" / "task11_confusion.png").stat().st_size > 10_000
