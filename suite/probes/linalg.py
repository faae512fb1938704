"""The probes' small dense products, in float64 on one BLAS thread.

The probes multiply matrices of a few million flops (Gram matrices of representations, kernels
and gradients) between training steps. Multithreaded BLAS on a CPU shared with other jobs
spins and runs such products 10-100x slower than it should; NumPy's einsum is single-threaded
but about 7x slower than one BLAS thread. So the products run on BLAS with its threads limited
to one for their duration (threadpoolctl), which leaves training's own threads alone.
"""

import functools

import numpy as np
from threadpoolctl import ThreadpoolController


@functools.lru_cache(maxsize=1)
def _controller():
    return ThreadpoolController()  # finds the BLAS that NumPy loaded


def gram(a, b=None):
    """`a^T b` (default `a^T a`) of two (n, d) arrays, in float64."""
    a = np.asarray(a, dtype=np.float64)
    b = a if b is None else np.asarray(b, dtype=np.float64)
    with _controller().limit(limits=1, user_api="blas"):
        return a.T @ b
