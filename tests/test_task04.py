"""task04 (early stopping): restored weights are the ones evaluated, on every backend (the smoke
run is in tests/test_smoke.py)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import BACKENDS, ROOT

# Validation labels follow the opposite rule of the training labels, so validation loss is lowest
# after the first epoch and rises after it: EarlyStopping(patience=2) stops at epoch 3 and must
# hand back the epoch-1 weights, and fit_classifier's test metrics (test set = validation set
# here) must be those of the epoch-1 weights, not the last epoch's.
_RESTORE = r"""
import json, types
import keras, numpy as np
from suite.training.fit import fit_classifier
rng = np.random.default_rng(0)
x, xv = rng.normal(size=(512, 8)).astype("float32"), rng.normal(size=(256, 8)).astype("float32")
data = types.SimpleNamespace(x_train=x, y_train=(x[:, 0] > 0).astype("int64"), x_val=xv,
                             y_val=(xv[:, 0] <= 0).astype("int64"), x_test=xv, y_test=(xv[:, 0] <= 0).astype("int64"))
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
out = fit_classifier(model, data, keras.optimizers.Adam(0.05), 10, 32, callbacks=[stop])
print(json.dumps({"backend": keras.backend.backend(), "metrics": out["metrics"], "val_loss": out["history"]["val_loss"]}))
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_classifier_evaluates_the_restored_best_weights(backend):
    """Regression guard: test metrics must come from the restored weights (Keras restores in on_train_end)."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", _RESTORE], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    m, val_loss = out["metrics"], out["val_loss"]
    assert out["backend"] == backend
    assert m["best_epoch"] == 1 and m["epochs_run"] == 3  # the setup really stopped early after a rise
    assert val_loss[-1] > val_loss[0] + 0.05
    assert m["test_loss"] == pytest.approx(val_loss[0], rel=1e-4)  # epoch-1 weights, not the last epoch's
