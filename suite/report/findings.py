"""Sentences computed from stored runs, shared by every task's findings and claim checks.

Every comparison uses `suite.report.stats.compare` (the rule stated in each writeup).
"""

import numpy as np

from suite.report import stats
from suite.study.results import SeedValues


def censored(values, limit):
    """Replace NaN ("never reached") by `limit`, e.g. epochs+1 for epochs-to-threshold (seeds kept)."""
    v = np.asarray(values, dtype=float)
    out = np.where(np.isnan(v), limit, v)
    seeds = getattr(values, "seeds", None)
    return SeedValues(out, seeds) if seeds is not None else out


def ranking(values_by_arm, higher_is_better=True):
    """Arms ordered best first by seed mean, each with its `Comparison` against the best arm."""
    means = {a: stats.summarize(v).mean for a, v in values_by_arm.items()}
    order = sorted((a for a in means if np.isfinite(means[a])), key=means.get, reverse=higher_is_better)
    if not order:
        return []
    best = values_by_arm[order[0]]
    return [(a, stats.compare(values_by_arm[a], best)) for a in order]


def best_sentence(values_by_arm, label, unit="", scale=1.0, digits=2, higher_is_better=True, diff_unit=None):
    """'Highest X: A (m ± s); reliably ahead of B (-d), C (-d); within the seed spread of D.'

    `unit` follows the values, `diff_unit` (default: `unit`) the differences, e.g. `"%"` and
    `" pts"` for accuracies."""
    diff_unit = unit if diff_unit is None else diff_unit
    ranked = ranking(values_by_arm, higher_is_better)
    if not ranked:
        return f"No arm produced a finite {label}."
    best = ranked[0][0]
    word = "Highest" if higher_is_better else "Lowest"
    s = f"{word} {label}: **{best}** ({stats.summarize(values_by_arm[best]).fmt(digits, scale)}{unit})"
    behind = [f"{a} ({c.diff * scale:+.{digits}f}{diff_unit})" for a, c in ranked[1:] if c.conclusive]
    tied = [a for a, c in ranked[1:] if not c.conclusive]
    if behind:
        s += "; reliably ahead of " + ", ".join(behind)
    if tied:
        s += "; within the seed spread of " + ", ".join(tied)
    return s + "."


def verdict(supports, contradicts):
    """`agrees` if the evidence supports a claim, `disagrees` if it contradicts it, else `inconclusive`."""
    if contradicts:
        return "disagrees"
    return "agrees" if supports else "inconclusive"


def describe(c, scale=1.0, unit="", digits=2):
    """A comparison as text: '+d ± h (paired t, 3 seeds: verdict)', or with the permutation test's
    p-value: '+d (permutation p = 0.100, 3 vs 3 seeds: verdict)'."""
    seeds = f"{c.n[0]} vs {c.n[1]} seeds" if isinstance(c.n, tuple) else f"{c.n} seeds"
    diff = f"{c.diff * scale:+.{digits}f}{unit}"
    if c.test.startswith(("permutation", "paired sign-flip")) or "Holm" in c.test:
        return f"{diff} ({c.test} p = {c.p:.3f}, {seeds}: {c.verdict})"
    half = "n/a" if not np.isfinite(c.half_width) else f"{c.half_width * scale:.{digits}f}{unit}"
    return f"{diff} ± {half} ({c.test}, {seeds}: {c.verdict})"
