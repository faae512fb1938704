"""suite.report.probeplots on made-up probe histories (no training)."""

import numpy as np
import pytest

from suite.report import plots, probeplots
from suite.study.results import Runs


def _runs():
    def record(seed, scale, points):
        h = {"epoch": list(range(points)), "variables": ["k", "b"], "norm": [[scale * (e + 1), 0.5] for e in range(points)],
             "hist": [[[1, 2, 3], [0, 6, 0]] for _ in range(points)], "bins": [-1.0, -0.5, 0.5, 1.0]}
        return {"arm": "a", "seed": seed, "probes": {"w": h}}
    return Runs([record(0, 1.0, 3), record(1, 2.0, 2)])


def test_series_pads_short_runs_and_picks_or_reduces_the_column():
    epochs, v = probeplots.series(_runs(), "a", "w", "norm", name="k")
    np.testing.assert_array_equal(epochs, [0, 1, 2])
    np.testing.assert_array_equal(v, [[1, 2, 3], [2, 4, np.nan]])
    _, total = probeplots.series(_runs(), "a", "w", "norm", reduce=sum)
    np.testing.assert_array_equal(total[0], [1.5, 2.5, 3.5])
    with pytest.raises(KeyError, match="'x' is not among"):
        probeplots.column(_runs().records[0]["probes"]["w"], "norm", "x")


def test_histogram_is_a_density_over_pooled_seeds():
    fig, ax = plots.panels(1)
    probeplots.histogram(ax[0], _runs(), "a", "w", "k")
    heights = ax[0].patches[0].get_data()[0]
    np.testing.assert_allclose(heights, np.array([2, 4, 6]) / 12 / np.array([0.5, 1.0, 0.5]))
    assert np.sum(heights * np.array([0.5, 1.0, 0.5])) == pytest.approx(1.0)
