"""task03 (epochs): suite.measures.curves on known curves, and the task end to end in the smoke profile."""

import math
import re

import numpy as np
import pytest

from conftest import BACKENDS
from suite.measures import curves


def test_minimum_takes_the_first_of_tied_lows_and_skips_nan():
    assert curves.minimum([0.3, 0.1, 0.2, 0.1]) == (2, 0.1)
    assert curves.minimum([np.nan, 0.5, 0.4]) == (3, 0.4)
    epoch, value = curves.minimum([np.nan, np.nan])
    assert epoch is None and math.isnan(value)


def test_value_at_is_one_based_and_nan_past_the_end():
    assert curves.value_at([5.0, 6.0, 7.0], 1) == 5.0
    assert curves.value_at([5.0, 6.0, 7.0], 3) == 7.0
    assert math.isnan(curves.value_at([5.0, 6.0, 7.0], 4))


def test_rise_after_minimum_uses_the_minimum_up_to_that_epoch():
    c = [1.0, 0.5, 0.7, 0.9, 0.2]
    assert curves.rise_after_minimum(c, 4) == pytest.approx(0.4)  # 0.9 - 0.5; the later 0.2 is not seen yet
    assert curves.rise_after_minimum(c) == pytest.approx(0.0)  # the last epoch is the minimum
    assert math.isnan(curves.rise_after_minimum(c, 6))


def test_slope_after_minimum_of_a_v_shape():
    v = [4.0, 2.0, 0.0, 0.5, 1.0, 1.5]  # minimum at epoch 3, then +0.5 per epoch
    assert curves.slope_after_minimum(v) == pytest.approx(0.5)
    assert math.isnan(curves.slope_after_minimum([3.0, 2.0, 1.0]))  # still falling: nothing after the minimum
    assert curves.slope_after_minimum([1.0, 0.0, 0.0, 0.0]) == pytest.approx(0.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_task03_smoke(smoke, backend, mnist_available):
    run = smoke("task03", backend)
    (r,) = run.records("main")
    m, h = r["metrics"], r["history"]
    assert r["status"] == "ok" and r["env"]["backend"] == backend
    assert m["test_accuracy"] > 0.5  # chance is 0.1; 512 images, 2 epochs
    assert len(h["val_loss"]) == len(h["train_eval_loss"]) == r["config"]["epochs"] == 2
    assert 1 <= m["best_epoch"] <= 2 and m["best_val_loss"] == min(h["val_loss"])
    assert m["val_loss_rise_final"] >= 0
    for e in range(2):  # the gap is validation minus inference-mode training loss, epoch by epoch
        assert h["loss_gap"][e] == pytest.approx(h["val_loss"][e] - h["train_eval_loss"][e])
        assert 0 <= h["train_eval_accuracy"][e] <= 1
    text = run.writeup()
    row = re.search(r"^\| minimum validation loss +\| ([0-9.]+) ", text, re.M)
    assert row and float(row.group(1)) == pytest.approx(m["best_val_loss"], abs=6e-5)
    assert "| validation loss began diverging after epoch 6 | **" in text
    assert (run.submission / "figures" / "task03_curves.png").stat().st_size > 10_000
