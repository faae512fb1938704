"""Seed statistics: mean, spread, 95% intervals, and the rule that decides "A differs from B".

One rule for every writeup (`RULE` is printed in each), chosen by what the data are:

- arms that share seeds (same initial weights and data order: the suite seeds each run) are
  compared on their per-seed differences, with a paired t-interval;
- arms without shared seeds, with Welch's t-interval;
- integer outcomes (epochs, counts) and arms without any spread, with an exact permutation test of the
  difference of means over all splits of the seeds (its p-value is printed), which cannot call
  a zero spread reliable: [4, 4, 4] vs [5, 5, 5] has p = 0.1;
- a claim that rests on several comparisons adjusts their p-values with Holm's method (`holm`).

A difference is reliable at the 5% level; otherwise it is within the seed-to-seed spread and
called inconclusive (always so with one seed).
"""

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats as sps

ALPHA = 0.05

RULE = ("Arms that share seeds (same initial weights and data order) are compared on their per-seed "
        "differences with a paired 95% t-interval; arms without shared seeds with Welch's 95% t-interval; "
        "integer outcomes (epochs, counts) and arms without any spread with an exact permutation test of the difference "
        "of means (p-value shown), which never calls a zero spread reliable on its own. A difference is "
        "reliable when the interval excludes zero (p < 0.05); otherwise it is within the seed-to-seed "
        "spread and called inconclusive (always so with a single seed). A claim resting on several "
        "comparisons adjusts their p-values with Holm's method.")


def t975(df):
    """The 97.5% quantile of Student's t with `df` degrees of freedom."""
    return math.inf if df < 1 else float(sps.t.ppf(0.975, df))


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation, count and 95% interval half-width of finite values."""

    mean: float
    std: float
    n: int
    ci95: float

    def fmt(self, digits=2, scale=1.0):
        """`mean ± std` (scaled, e.g. `scale=100` for percentages); `n/a` if nothing finite."""
        if self.n == 0:
            return "n/a"
        if self.n == 1:
            return f"{self.mean * scale:.{digits}f}"
        return f"{self.mean * scale:.{digits}f} ± {self.std * scale:.{digits}f}"


def summarize(values):
    """Summarize the finite entries of `values` (NaN entries, e.g. diverged seeds, are dropped)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return Summary(math.nan, math.nan, 0, math.nan)
    std = float(x.std(ddof=1)) if n > 1 else 0.0
    half = t975(n - 1) * std / math.sqrt(n) if n > 1 else math.inf
    return Summary(float(x.mean()), std, n, half)


@dataclass(frozen=True)
class Comparison:
    """Result of `compare`: the difference a - b, its evidence and a verdict.

    `half_width` is the 95% interval's (NaN for the permutation test), `p` the two-sided p-value,
    `test` which rule applied, `n` the seeds used (pairs, or `(n_a, n_b)` unpaired).
    """

    diff: float
    half_width: float
    verdict: str  # "greater", "less" or "inconclusive"
    p: float = math.nan
    test: str = "n/a"
    n: object = 0

    @property
    def conclusive(self):
        return self.verdict != "inconclusive"


def _verdict(diff, p):
    if not (p < ALPHA) or diff == 0:
        return "inconclusive"
    return "greater" if diff > 0 else "less"


def _finite(x):
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def _integer(*samples):
    pooled = np.concatenate(samples)
    return bool(np.all(pooled == np.round(pooled)))


def _permutation(a, b):
    diff = float(a.mean() - b.mean())
    if np.concatenate([a, b]).std() == 0:
        return Comparison(diff, math.nan, "inconclusive", 1.0, "permutation", (len(a), len(b)))
    exact = math.comb(len(a) + len(b), len(a)) <= 20000
    res = sps.permutation_test((a, b), lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
                               permutation_type="independent", vectorized=True, alternative="two-sided",
                               n_resamples=np.inf if exact else 20000, random_state=0)
    p = float(res.pvalue)
    return Comparison(diff, math.nan, _verdict(diff, p), p, "permutation", (len(a), len(b)))


def _paired(d):
    n, diff = len(d), float(d.mean())
    if np.allclose(d, d[0], rtol=1e-9, atol=1e-12):  # every seed moved by the same amount: exact sign-flip test
        p = 1.0 if diff == 0 else min(1.0, 2.0 / 2**n)
        return Comparison(diff, 0.0, _verdict(diff, p), p, "paired sign-flip", n)
    half = t975(n - 1) * float(d.std(ddof=1)) / math.sqrt(n)
    p = float(sps.ttest_1samp(d, 0.0).pvalue)
    return Comparison(diff, half, "inconclusive" if abs(diff) <= half else _verdict(diff, 0.0), p, "paired t", n)


def _welch(a, b):
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se, diff = math.sqrt(va + vb), float(a.mean() - b.mean())
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t975(df) * se
    p = float(2 * sps.t.sf(abs(diff) / se, df))
    return Comparison(diff, half, "inconclusive" if abs(diff) <= half else _verdict(diff, 0.0), p, "Welch t",
                      (len(a), len(b)))


def _pairs(a, b):
    """Per-seed differences of the seeds both `SeedValues` have finite values for, else None."""
    sa, sb = getattr(a, "seeds", None), getattr(b, "seeds", None)
    if sa is None or sb is None:
        return None
    va = {s: v for s, v in zip(sa, np.asarray(a, dtype=float)) if math.isfinite(v)}
    vb = {s: v for s, v in zip(sb, np.asarray(b, dtype=float)) if math.isfinite(v)}
    common = sorted(set(va) & set(vb))
    if len(common) < 2 or len(common) < max(len(va), len(vb)) // 2 + 1:
        return None
    return np.array([va[s] - vb[s] for s in common]), np.array([va[s] for s in common]), np.array([vb[s] for s in common])


def compare(a, b):
    """Compare two arms' per-seed values by the module's rule (`RULE`).

    Args:
        a, b: per-seed values (`SeedValues` from `Runs.metric` pair on shared seeds; plain
            arrays compare unpaired). NaN entries (e.g. diverged seeds) are dropped.

    Returns:
        A `Comparison`: verdict `"greater"` when a is reliably above b, `"less"` when below,
        else `"inconclusive"`.

    Example:
        >>> compare([0.98, 0.981, 0.979], [0.95, 0.952, 0.951]).verdict
        'greater'
    """
    fa, fb = _finite(a), _finite(b)
    if len(fa) < 2 or len(fb) < 2:
        diff = float(fa.mean() - fb.mean()) if len(fa) and len(fb) else math.nan
        return Comparison(diff, math.inf, "inconclusive", math.nan, "n/a (1 seed)", (len(fa), len(fb)))
    if _integer(fa, fb):
        return _permutation(fa, fb)
    pairs = _pairs(a, b)
    if pairs is not None:
        return _paired(pairs[0])
    if fa.var() == 0 and fb.var() == 0:
        return _permutation(fa, fb)
    return _welch(fa, fb)


def holm(comparisons):
    """The comparisons of one claim with Holm-adjusted p-values and verdicts (family-wise 5% level).

    Takes a list or a dict of `Comparison`s and returns the same kind.
    """
    if isinstance(comparisons, dict):
        return dict(zip(comparisons, holm(list(comparisons.values()))))
    order = sorted(range(len(comparisons)), key=lambda i: comparisons[i].p if math.isfinite(comparisons[i].p) else 2)
    out, running = list(comparisons), 0.0
    for rank, i in enumerate(order):
        c = comparisons[i]
        p = c.p if math.isfinite(c.p) else 1.0
        running = max(running, min(1.0, p * (len(comparisons) - rank)))
        out[i] = replace(c, p=running, verdict=_verdict(c.diff, running) if c.conclusive else "inconclusive",
                         test=f"{c.test}, Holm x{len(comparisons)}")
    return out
