import math

import numpy as np
import pytest

from suite.report import findings, stats
from suite.study.results import SeedValues


def test_summarize_drops_nan_and_gives_t_interval():
    s = stats.summarize([1.0, 2.0, 3.0, np.nan])
    assert (s.mean, s.n) == (2.0, 3)
    assert s.std == pytest.approx(1.0)
    assert s.ci95 == pytest.approx(4.303 / math.sqrt(3), rel=1e-4)  # t(2) quantile 4.3027


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


def test_compare_half_width_is_welch_without_shared_seeds():
    a, b = [1.5, 2.5, 3.5], [2.5, 4.5, 6.5]
    c = stats.compare(a, b)
    va, vb = 1 / 3, 4 / 3
    df = (va + vb) ** 2 / (va**2 / 2 + vb**2 / 2)
    assert c.test == "Welch t" and c.n == (3, 3)
    assert c.half_width == pytest.approx(stats.t975(df) * math.sqrt(va + vb))
    assert c.diff == pytest.approx(-2.0)


def test_arms_with_shared_seeds_are_compared_seed_by_seed():
    # Seed effects dominate the spread; the per-seed difference is a steady +0.01.
    a = SeedValues([0.90, 0.95, 0.99, 0.93], [0, 1, 2, 3])
    b = SeedValues([0.8895, 0.9410, 0.9795, 0.9210], [0, 1, 2, 3])
    paired = stats.compare(a, b)
    assert paired.test == "paired t" and paired.n == 4 and paired.verdict == "greater"
    d = np.asarray(a) - np.asarray(b)
    assert paired.half_width == pytest.approx(stats.t975(3) * d.std(ddof=1) / 2)
    assert stats.compare(np.asarray(a), np.asarray(b)).verdict == "inconclusive"  # unpaired: seed spread wins
    # pairing follows the seeds, not the order the records were stored in
    shuffled = SeedValues(np.asarray(b)[[2, 0, 3, 1]], [2, 0, 3, 1])
    assert stats.compare(a, shuffled) == paired
    # a diverged seed (NaN) drops out of the pairs
    a_nan = SeedValues([0.90, 0.95, 0.99, np.nan], [0, 1, 2, 3])
    assert stats.compare(a_nan, b).n == 3


def test_integer_outcomes_use_an_exact_permutation_test_that_cannot_trust_zero_spread():
    c = stats.compare([4, 4, 4], [5, 5, 5])  # the old rule called this "less" with ± 0.00
    assert c.test == "permutation" and c.verdict == "inconclusive"
    assert c.p == pytest.approx(2 / 20)  # 2 of the C(6, 3) = 20 splits are as extreme
    five = stats.compare([4] * 5, [5] * 5)
    assert five.p == pytest.approx(2 / 252) and five.verdict == "less"
    assert stats.compare([3, 4, 5], [3, 4, 5]).verdict == "inconclusive"
    assert stats.compare([7, 7], [7, 7]).p == 1.0


def test_a_constant_paired_difference_needs_enough_seeds():
    a = SeedValues([0.5, 0.6, 0.7], [0, 1, 2])
    b = SeedValues([0.4, 0.5, 0.6], [0, 1, 2])  # the same +0.1 on every seed: no spread
    c = stats.compare(a, b)
    assert c.test == "paired sign-flip" and c.p == pytest.approx(2 / 8) and c.verdict == "inconclusive"
    seeds = range(6)
    six = stats.compare(SeedValues([0.5 + 0.01 * s for s in seeds], seeds),
                        SeedValues([0.4 + 0.01 * s for s in seeds], seeds))
    assert six.p == pytest.approx(2 / 64) and six.verdict == "greater"


def test_holm_adjusts_the_family():
    cs = [stats.Comparison(1.0, 0.5, "greater", p, "paired t", 5) for p in (0.01, 0.02, 0.04)]
    adjusted = stats.holm(cs)
    assert [c.p for c in adjusted] == pytest.approx([0.03, 0.04, 0.04])
    assert all(c.verdict == "greater" for c in adjusted)
    loose = stats.holm([stats.Comparison(1.0, 0.5, "greater", p, "paired t", 5) for p in (0.03, 0.04)])
    assert [c.verdict for c in loose] == ["inconclusive", "inconclusive"]  # 0.06 and 0.06 after Holm


def test_describe_names_the_test_and_its_evidence():
    assert findings.describe(stats.compare([4, 4, 4], [5, 5, 5]), digits=1) == \
        "-1.0 (permutation p = 0.100, 3 vs 3 seeds: inconclusive)"
    c = stats.compare(SeedValues([0.5, 0.61, 0.7], [0, 1, 2]), SeedValues([0.4, 0.5, 0.6], [0, 1, 2]))
    assert findings.describe(c, 100, " pts").startswith("+10.33 pts ± ") and "(paired t, 3 seeds: " in \
        findings.describe(c, 100, " pts")


def test_ranking_and_best_sentence():
    values = {"a": [0.90, 0.91, 0.90], "b": [0.99, 0.98, 0.99], "c": [0.985, 0.99, 0.98]}
    ranked = findings.ranking(values)
    assert [a for a, _ in ranked][0] == "b"
    sentence = findings.best_sentence(values, "accuracy")
    assert sentence.startswith("Highest accuracy: **b**")
    assert "reliably ahead of a" in sentence and "within the seed spread of c" in sentence


def test_censored_and_verdict():
    assert list(findings.censored([1.0, np.nan], 11)) == [1.0, 11.0]
    assert findings.censored(SeedValues([1.0, np.nan], [3, 4]), 11).seeds == (3, 4)
    assert findings.verdict(True, False) == "agrees"
    assert findings.verdict(True, True) == "disagrees"
    assert findings.verdict(False, False) == "inconclusive"
