"""Linear centered kernel alignment (CKA) between two representations of the same samples."""

import numpy as np


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
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"linear_cka needs the same samples on both sides, got {a.shape[0]} and {b.shape[0]} rows")
    a = a.reshape(len(a), -1)
    b = b.reshape(len(b), -1)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    # einsum, not BLAS: for these few-million-flop products, multithreaded BLAS on a CPU shared
    # with training runs 10-100x slower than a plain single-threaded loop.
    cross = np.linalg.norm(np.einsum("ni,nj->ij", b, a)) ** 2
    denom = np.linalg.norm(np.einsum("ni,nj->ij", a, a)) * np.linalg.norm(np.einsum("ni,nj->ij", b, b))
    return float(cross / denom) if denom > 0 else float("nan")
