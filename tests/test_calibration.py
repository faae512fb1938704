"""suite.measures.calibration on small arrays with known answers."""

import numpy as np
import pytest

from suite.measures import calibration


def test_ece_zero_when_confidence_matches_accuracy():
    # 10 answers at confidence 0.8, 8 of them right: accuracy in the bin equals its confidence
    probs = np.tile([0.8, 0.2], (10, 1))
    y = np.array([0] * 8 + [1] * 2)
    assert calibration.ece(probs, y) == pytest.approx(0.0, abs=1e-12)


def test_ece_measures_overconfidence():
    # all at 0.9 confidence, half right: gap 0.4 everywhere
    probs = np.tile([0.9, 0.1], (10, 1))
    y = np.array([0, 1] * 5)
    assert calibration.ece(probs, y) == pytest.approx(0.4)
    s = calibration.summarize(probs, y)
    assert s["overconfidence"] == pytest.approx(0.4)
    assert s["accuracy"] == 0.5 and s["n_wrong"] == 5


def test_reliability_bins_are_right_closed_and_count_everything():
    probs = np.array([[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0], [0.95, 0.05, 0.0], [1.0, 0.0, 0.0]])
    r = calibration.reliability(probs, np.array([0, 1, 0, 0]), bins=10)
    assert sum(r["count"]) == 4
    assert r["count"][4] == 1  # 0.5 lies in (0.4, 0.5]
    assert r["count"][9] == 2  # 0.95 and 1.0
    assert np.isnan(r["accuracy"][0]) and r["accuracy"][9] == 1.0


def test_margin_entropy_and_auroc():
    p = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25]])
    np.testing.assert_allclose(calibration.top2_margin(p), [0.5, 0.05])
    assert calibration.entropy(np.full((1, 4), 0.25))[0] == pytest.approx(np.log(4))
    assert calibration.auroc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert calibration.auroc([0.5, 0.5], [True, False]) == 0.5
    assert np.isnan(calibration.auroc([0.5], [True]))


def test_summary_histograms_split_right_and_wrong():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 10)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = rng.integers(0, 10, 200)
    s = calibration.summarize(probs, y, logits)
    wrong = int((probs.argmax(1) != y).sum())
    assert sum(s["confidence_hist_wrong"]) == sum(s["doubt_hist_wrong"]) == wrong == s["n_wrong"]
    assert sum(s["confidence_hist_right"]) == 200 - wrong
    assert 0 <= s["ece"] <= 1 and 0 <= s["auroc_confidence"] <= 1


def test_extremes_order():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.99, 0.01], [0.2, 0.8]])
    ex = calibration.extremes(probs, np.array([0, 0, 1, 1]), k=2)
    assert [e["index"] for e in ex["least_confident"]] == [1, 3]
    assert [e["index"] for e in ex["most_confident_wrong"]] == [2]
    assert ex["most_confident"][0]["index"] == 2


def test_extremes_rank_by_scores_when_probabilities_saturate():
    probs = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    ex = calibration.extremes(probs, np.array([0, 1, 0]), k=3, scores=[5.0, 30.0, 20.0])
    assert [e["index"] for e in ex["most_confident"]] == [1, 2, 0]
    assert [e["index"] for e in ex["most_confident_wrong"]] == [1]
    assert ex["least_confident"][0]["score"] == 5.0
