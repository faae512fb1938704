"""Confusion matrices and how structured a classifier's errors are.

"Structured" is measured against a null model: keep how many test images of each true class
are misclassified, but spread those errors uniformly over the other classes. If the largest
confusion pairs hold a larger share of the errors than the same top pairs do under that null,
the errors concentrate on particular pairs of classes.
"""

import numpy as np


def matrix(y_true, y_pred, classes):
    """`classes x classes` counts: row = true class, column = predicted class.

    Example:
        >>> matrix([0, 0, 1], [0, 1, 1], 2).tolist()
        [[1, 1], [0, 1]]
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * classes + y_pred, minlength=classes * classes).reshape(classes, classes)


def pairs(m):
    """Unordered class pairs `(i, j, errors)`, i < j, errors = m[i, j] + m[j, i], largest first."""
    m = np.asarray(m, dtype=float)
    n = len(m)
    out = [(i, j, float(m[i, j] + m[j, i])) for i in range(n) for j in range(i + 1, n)]
    return sorted(out, key=lambda p: -p[2])


def top_share(m, k):
    """Share of all errors that fall in the `k` largest unordered pairs (NaN without errors)."""
    counts = [e for _, _, e in pairs(m)]
    total = sum(counts)
    return sum(counts[:k]) / total if total else float("nan")


def null_top_share(m, k, draws=2000, seed=0):
    """`top_share` of `draws` matrices whose errors per true class are spread uniformly over the
    other classes (same error count per row as `m`). Returns an array of `draws` shares.
    """
    m = np.asarray(m)
    n = len(m)
    errors = m.sum(axis=1) - np.diag(m)
    rng = np.random.default_rng(seed)
    shares = np.empty(draws)
    for d in range(draws):
        sim = np.zeros((n, n))
        for i, e in enumerate(errors):
            sim[i, np.delete(np.arange(n), i)] = rng.multinomial(int(e), np.full(n - 1, 1 / (n - 1)))
        shares[d] = top_share(sim, k)
    return shares
