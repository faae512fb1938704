import math

import numpy as np
import pytest

from suite.report import findings, stats


def test_summarize_drops_nan_and_gives_t_interval():
    s = stats.summarize([1.0, 2.0, 3.0, np.nan])
    assert (s.mean, s.n) == (2.0, 3)
    assert s.std == pytest.approx(1.0)
    assert s.ci95 == pytest.approx(4.303 / math.sqrt(3))


def test_single_seed_has_no_interval_and_is_never_conclusive():
    assert stats.summarize([0.9]).ci95 == math.inf
    assert stats.compare([0.99], [0.10]).verdict == "inconclusive"


def test_compare_separates_clear_differences_and_not_noise():
    rng = np.random.default_rng(0)
    a, b = 0.98 + 0.001 * rng.standard_normal(5), 0.95 + 0.001 * rng.standard_normal(5)
    assert stats.compare(a, b).verdict == "greater"
    assert stats.compare(b, a).verdict == "less"
    noisy = [0.97, 0.99, 0.95]
    assert stats.compare(noisy, [0.975, 0.965, 0.98]).verdict == "inconclusive"


def test_compare_half_width_is_welch():
    a, b = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]
    c = stats.compare(a, b)
    va, vb = 1 / 3, 4 / 3
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 2)
    assert c.half_width == pytest.approx(stats.t975(df) * math.sqrt(va + vb))
    assert c.diff == -2.0


def test_ranking_and_best_sentence():
    values = {"a": [0.90, 0.91, 0.90], "b": [0.99, 0.98, 0.99], "c": [0.985, 0.99, 0.98]}
    ranked = findings.ranking(values)
    assert [a for a, _ in ranked][0] == "b"
    sentence = findings.best_sentence(values, "accuracy")
    assert sentence.startswith("Highest accuracy: **b**")
    assert "reliably ahead of a" in sentence and "within the seed spread of c" in sentence


def test_censored_and_verdict():
    assert list(findings.censored([1.0, np.nan], 11)) == [1.0, 11.0]
    assert findings.verdict(True, False) == "agrees"
    assert findings.verdict(True, True) == "disagrees"
    assert findings.verdict(False, False) == "inconclusive"
