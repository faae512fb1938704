"""Translation and framing probes of a trained image classifier: shifted and masked test images.

- `translate` moves images by whole pixels, filling the vacated strip with a constant (black
  by default, like the zero padding of random-crop augmentation).
- `centre_mask` / `border_mask` hide the middle square (where CIFAR objects mostly sit) or
  everything around a middle square (mostly background), filled with a constant colour.
- `shift_accuracy` and `mask_accuracy` measure a model's accuracy under either, in inference
  mode; they never change the model.
"""

import math

import numpy as np

DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))  # (dy, dx) unit steps: right, left, down, up


def translate(x, dy, dx, fill=0.0):
    """Shift images `(N, H, W, C)` by `dy` rows (down if positive) and `dx` columns (right if positive).

    Pixels moved out of the frame are lost; the vacated ones take `fill` (a scalar or one value
    per channel). Defaults to black.

    Example:
        >>> translate(np.arange(9.0).reshape(1, 3, 3, 1), 0, 1)[0, :, :, 0].tolist()
        [[0.0, 0.0, 1.0], [0.0, 3.0, 4.0], [0.0, 6.0, 7.0]]
    """
    x = np.asarray(x)
    h, w = x.shape[1:3]
    out = np.empty_like(x)
    out[...] = np.asarray(fill, dtype=x.dtype)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    src_r, dst_r = slice(max(-dy, 0), h - max(dy, 0)), slice(max(dy, 0), h - max(-dy, 0))
    src_c, dst_c = slice(max(-dx, 0), w - max(dx, 0)), slice(max(dx, 0), w - max(-dx, 0))
    out[:, dst_r, dst_c] = x[:, src_r, src_c]
    return out


def _centred_square(side, size):
    start = (size - side) // 2
    m = np.zeros((size, size), dtype=bool)
    m[start:start + side, start:start + side] = True
    return m


def centre_mask(side, size=32):
    """Boolean `(size, size)` mask, True on the central `side x side` square (the part hidden)."""
    return _centred_square(side, size)


def border_mask(keep, size=32):
    """Boolean `(size, size)` mask, True everywhere except the central `keep x keep` square."""
    return ~_centred_square(keep, size)


def matched_masks(fraction, size=32):
    """A centre mask and a border mask that each hide about `fraction` of the image.

    Returns `(centre, border)`: the centre square's side is `round(size * sqrt(fraction))`, the
    kept square's side `round(size * sqrt(1 - fraction))`; each mask's true hidden fraction is
    `mask.mean()`.
    """
    return (centre_mask(round(size * math.sqrt(fraction)), size),
            border_mask(round(size * math.sqrt(1 - fraction)), size))


def apply_mask(x, mask, fill):
    """Images `x` with the pixels where `mask` is True set to `fill` (scalar or per channel)."""
    out = np.array(x, copy=True)
    out[:, mask] = np.asarray(fill, dtype=out.dtype)
    return out


def _accuracy(predict, x, y):
    return float(np.mean(predict(x) == np.asarray(y)))


def shift_accuracy(predict, x, y, shifts, fill=0.0, directions=DIRECTIONS):
    """Accuracy at each shift in pixels, averaged over `directions` (right, left, down, up).

    Args:
        predict: a function from images to predicted labels (e.g. the arg-max of a model).
        x, y: images and labels.
        shifts: shifts in pixels, e.g. `(0, 1, 2, 4)`; 0 is evaluated once.
        fill: value of the vacated pixels. Defaults to `0.0`.
        directions: unit `(dy, dx)` steps to average over. Defaults to the four axis directions.

    Returns:
        `{shift: accuracy}`.
    """
    out = {}
    for s in shifts:
        steps = [(0, 0)] if s == 0 else [(s * dy, s * dx) for dy, dx in directions]
        out[s] = float(np.mean([_accuracy(predict, translate(x, dy, dx, fill), y) for dy, dx in steps]))
    return out


def mask_accuracy(predict, x, y, masks, fill):
    """Accuracy with each mask applied: `{name: accuracy}` for `masks = {name: bool (H, W) mask}`."""
    return {name: _accuracy(predict, apply_mask(x, m, fill), y) for name, m in masks.items()}
