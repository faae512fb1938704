"""task03 (epochs): suite.measures.curves on known curves (the smoke run is in tests/test_smoke.py)."""

import math

import numpy as np
import pytest

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
