"""Numbers read off one per-epoch curve (e.g. a run's validation loss): its minimum, the values at
given epochs, and how much and how steadily it rises after the minimum. Epochs are 1-based.
"""

import math

import numpy as np


def _finite(curve):
    c = np.asarray(curve, dtype=float)
    return c, np.isfinite(c)


def minimum(curve):
    """`(epoch, value)` of the curve's lowest finite value (first one on ties); `(None, nan)` if none.

    Example:
        >>> minimum([0.3, 0.1, 0.2, 0.1])
        (2, 0.1)
    """
    c, ok = _finite(curve)
    if not ok.any():
        return None, math.nan
    i = int(np.nanargmin(np.where(ok, c, np.nan)))
    return i + 1, float(c[i])


def value_at(curve, epoch):
    """The curve's value at `epoch`, or NaN if the run stopped before it."""
    c = np.asarray(curve, dtype=float)
    return float(c[epoch - 1]) if 1 <= epoch <= len(c) else math.nan


def rise_after_minimum(curve, epoch=None):
    """Value at `epoch` (default: the last epoch) minus the minimum up to that epoch (>= 0).

    NaN if the run stopped before `epoch`.
    """
    c = np.asarray(curve, dtype=float)
    epoch = len(c) if epoch is None else epoch
    if epoch > len(c) or epoch < 1:
        return math.nan
    _, low = minimum(c[:epoch])
    return value_at(c, epoch) - low


def slope_after_minimum(curve):
    """Least-squares slope (per epoch) of the curve from its minimum to the end; NaN if fewer than
    two epochs follow the minimum. Positive: the curve climbs after its minimum.

    Example:
        >>> round(slope_after_minimum([3.0, 1.0, 2.0, 3.0]), 6)
        1.0
    """
    c, ok = _finite(curve)
    best, _ = minimum(c)
    if best is None:
        return math.nan
    tail = c[best - 1:]
    epochs = np.arange(len(tail), dtype=float)
    keep = np.isfinite(tail)
    if keep.sum() < 3:  # the minimum plus at least two later epochs
        return math.nan
    return float(np.polyfit(epochs[keep], tail[keep], 1)[0])
