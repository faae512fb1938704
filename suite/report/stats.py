"""Seed statistics: mean, spread, 95% intervals, and the rule that decides "A differs from B".

The rule used by every writeup: two arms differ when the difference of their seed means is
larger than the half-width of its 95% Welch interval; otherwise the comparison is
inconclusive. With one seed per arm there is no spread, so nothing is ever called different.
"""

import math
from dataclasses import dataclass

import numpy as np

# Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom; above 30, the normal's.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
         2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
         2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)

RULE = ("A and B differ when the difference of their seed means exceeds the half-width of its "
        "95% Welch t-interval; otherwise the difference is within the seed-to-seed spread and "
        "is called inconclusive (always so with a single seed).")


def t975(df):
    """The 97.5% quantile of Student's t with `df` degrees of freedom (df rounded down)."""
    if df < 1:
        return math.inf
    return _T975[int(df) - 1] if df <= 30 else 1.96


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
    """Result of `compare`: the difference of means (a - b), its 95% half-width and a verdict."""

    diff: float
    half_width: float
    verdict: str  # "greater", "less" or "inconclusive"

    @property
    def conclusive(self):
        return self.verdict != "inconclusive"


def compare(a, b):
    """Compare two sets of per-seed values by the module's rule.

    Returns a `Comparison` whose verdict is `"greater"` when a's mean is reliably above b's,
    `"less"` when below, else `"inconclusive"`.

    Example:
        >>> compare([0.98, 0.981, 0.979], [0.95, 0.952, 0.951]).verdict
        'greater'
    """
    sa, sb = summarize(a), summarize(b)
    if sa.n < 2 or sb.n < 2:
        return Comparison(sa.mean - sb.mean, math.inf, "inconclusive")
    va, vb = sa.std**2 / sa.n, sb.std**2 / sb.n
    se = math.sqrt(va + vb)
    diff = sa.mean - sb.mean
    if se == 0:
        return Comparison(diff, 0.0, "inconclusive" if diff == 0 else ("greater" if diff > 0 else "less"))
    df = (va + vb) ** 2 / (va**2 / (sa.n - 1) + vb**2 / (sb.n - 1))
    half = t975(df) * se
    verdict = "inconclusive" if abs(diff) <= half else ("greater" if diff > 0 else "less")
    return Comparison(diff, half, verdict)
