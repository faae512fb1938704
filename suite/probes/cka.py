"""Linear centered kernel alignment (CKA) between two representations of the same samples."""

import numpy as np

from suite.probes.linalg import gram


def centered(a):
    """A representation flattened per sample, in float64, each feature centered over the samples."""
    a = np.asarray(a, dtype=np.float64)
    a = a.reshape(len(a), -1)
    return a - a.mean(axis=0)


def cross_norm(a, b):
    """`||B^T A||_F` of two centered representations of the same samples."""
    return float(np.linalg.norm(gram(b, a)))


def cka_of_centered(a, b, self_a=None, self_b=None):
    """Linear CKA of centered `a` and `b`; `self_a = cross_norm(a, a)` (likewise `self_b`) when known."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"linear_cka needs the same samples on both sides, got {a.shape[0]} and {b.shape[0]} rows")
    self_a = cross_norm(a, a) if self_a is None else self_a
    self_b = cross_norm(b, b) if self_b is None else self_b
    denom = self_a * self_b
    return cross_norm(a, b) ** 2 / denom if denom > 0 else float("nan")


def linear_cka(a, b):
    """Linear CKA of Kornblith et al. (2019) between representations `a` (n, d1) and `b` (n, d2).

    `||B^T A||_F^2 / (||A^T A||_F ||B^T B||_F)` after centering each feature over the n samples;
    invariant to orthogonal transformations and isotropic scaling of either side, 1 for
    identical representations. Inputs with more than two axes are flattened per sample.
    Returns NaN when either representation is constant (zero after centering).

    Example:
        >>> x = np.random.default_rng(0).normal(size=(100, 5))
        >>> round(linear_cka(x, 3 * x), 6)
        1.0
    """
    return cka_of_centered(centered(a), centered(b))
