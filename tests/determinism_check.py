"""Train the same small model twice with the same seed on the current backend; print 'identical' or the diff.

Run as a script (`KERAS_BACKEND=torch python tests/determinism_check.py [--deterministic]`) by
test_reliability.py; `--deterministic` turns on the backends' deterministic kernels first, as
`suite.run --deterministic` does.
"""

import sys

from suite import backend

backend.prepare(deterministic="--deterministic" in sys.argv)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from suite.data import mnist  # noqa: E402
from suite.models.mlp import mlp  # noqa: E402
from suite.training.fit import fit_classifier  # noqa: E402


def once():
    keras.backend.clear_session()
    keras.utils.set_random_seed(7)
    model = mlp(dropout=0.1)
    out = fit_classifier(model, mnist.splits(256), keras.optimizers.Adam(1e-3), 2, 32)
    return out["history"]["loss"] + out["history"]["val_loss"], [w.copy() for w in model.get_weights()]


if __name__ == "__main__":
    if "--deterministic" in sys.argv:
        backend.enable_determinism()
    (h1, w1), (h2, w2) = once(), once()
    same = h1 == h2 and all(np.array_equal(a, b) for a, b in zip(w1, w2))
    print("identical" if same else f"differ: {h1} vs {h2}")
