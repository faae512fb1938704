"""`fit` beyond classification: any loss, named evaluation sets, monitors, divergence; and
`fit_classifier` is exactly `fit` with the classifier's settings."""

import keras
import numpy as np
import pytest

from suite.data.store import Split
from suite.models.mlp import mlp
from suite.training.fit import fit, fit_classifier

RNG = np.random.default_rng(0)


def _split(x, y, n_val=32, n_test=32):
    """Train / validation / test slices of `(x, y)`; the test set is returned separately."""
    a, b = len(x) - n_val - n_test, len(x) - n_test
    return Split(x[:a], y[:a], x[a:b], y[a:b]), (x[b:], y[b:])


def _untimed(out):
    return {**out, "metrics": {k: v for k, v in out["metrics"].items() if "seconds" not in k},
            "history": {k: v for k, v in out["history"].items() if "seconds" not in k}}


@pytest.fixture(autouse=True)
def seed():
    keras.utils.set_random_seed(0)


def _autoencoder():
    return keras.Sequential([keras.Input((8,)), keras.layers.Dense(3), keras.layers.Dense(8)])


def test_autoencoder_with_mse_trains_and_reports_its_test_loss():
    x = RNG.normal(size=(256, 8)).astype("float32") @ RNG.normal(size=(8, 8)).astype("float32")
    data, test = _split(x, x)  # targets = inputs
    out = fit(_autoencoder(), data, keras.optimizers.Adam(1e-2), "mse", [], 5, 32, evaluate={"test": test})
    loss, m = out["history"]["loss"], out["metrics"]
    assert out["status"] == "ok" and loss[-1] < loss[0]
    assert set(m) == {"epochs_run", "best_epoch", "best_val_loss", "final_val_loss", "seconds_per_epoch", "test_loss"}
    assert m["best_val_loss"] == min(out["history"]["val_loss"]) and np.isfinite(m["test_loss"])


def test_per_step_binary_labeller_reports_binary_accuracy_and_monitors_its_maximum():
    x = RNG.normal(size=(192, 20, 3)).astype("float32")
    y = (x[..., :1] + x[..., 1:2] > 0).astype("float32")  # (n, 20, 1): one label per step
    data, test = _split(x, y)
    model = keras.Sequential([keras.Input((20, 3)), keras.layers.Conv1D(4, 3, padding="same", activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    out = fit(model, data, keras.optimizers.Adam(1e-2), "binary_crossentropy", ["binary_accuracy"], 4, 32,
              monitor="val_binary_accuracy", evaluate={"test": test})
    m, curve = out["metrics"], out["history"]["val_binary_accuracy"]
    assert m["best_val_binary_accuracy"] == max(curve) and m["best_epoch"] == int(np.argmax(curve)) + 1
    assert m["final_val_binary_accuracy"] == curve[-1] and 0 <= m["final_train_binary_accuracy"] <= 1
    assert m["test_binary_accuracy"] > 0.6 and "best_val_loss" not in m and "final_val_loss" in m


def test_soft_labels_with_categorical_crossentropy():
    x = RNG.normal(size=(192, 6)).astype("float32")
    hard = keras.ops.convert_to_numpy(keras.ops.one_hot(np.argmax(x[:, :3], axis=1), 3))
    y = (0.7 * hard + 0.3 * np.roll(hard, 1, axis=1)).astype("float32")  # mixup-like rows summing to 1
    assert np.allclose(y.sum(axis=1), 1)
    data, test = _split(x, y)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    out = fit(model, data, keras.optimizers.Adam(3e-2), keras.losses.CategoricalCrossentropy(), ["accuracy"],
              4, 32, evaluate={"test": test})
    assert out["history"]["loss"][-1] < out["history"]["loss"][0]
    assert {"final_train_accuracy", "final_val_accuracy", "test_loss", "test_accuracy"} <= set(out["metrics"])


def test_named_evaluation_sets_coexist_and_differ():
    x = RNG.normal(size=(192, 8)).astype("float32")
    data, (x_test, y_test) = _split(x, x)
    sets = {"clean": (x_test, y_test), "shifted": (x_test + 3, y_test)}
    m = fit(_autoencoder(), data, keras.optimizers.Adam(1e-2), "mse", ["mae"], 2, 32, evaluate=sets)["metrics"]
    assert {"clean_loss", "clean_mae", "shifted_loss", "shifted_mae"} <= set(m) and "test_loss" not in m
    assert m["shifted_loss"] > m["clean_loss"] and m["shifted_mae"] != m["clean_mae"]


def test_a_huge_learning_rate_diverges_and_skips_evaluation():
    x = RNG.normal(size=(192, 8)).astype("float32")
    data, test = _split(x, x)
    out = fit(_autoencoder(), data, keras.optimizers.SGD(1e30), "mse", [], 3, 32, evaluate={"test": test})
    assert out["status"] == "diverged" and out["diverged_epoch"] == 1 and out["metrics"]["epochs_run"] == 1
    assert out["metrics"]["best_epoch"] is None and "test_loss" not in out["metrics"]


def test_fit_classifier_is_fit_with_the_classifier_settings():
    x = RNG.random((160, 4, 4), dtype=np.float32)
    y = (x.reshape(160, -1).mean(1) > 0.5).astype(np.int64)
    data = Split(x[:96], y[:96], x[96:128], y[96:128], x[128:], y[128:])
    keras.utils.set_random_seed(1)
    wrapped = fit_classifier(mlp(hidden=(8,), input_shape=(4, 4), classes=2), data, keras.optimizers.Adam(1e-2), 3, 16)
    keras.utils.set_random_seed(1)
    general = fit(mlp(hidden=(8,), input_shape=(4, 4), classes=2), data, keras.optimizers.Adam(1e-2),
                  "sparse_categorical_crossentropy", ["accuracy"], 3, 16, evaluate={"test": (data.x_test, data.y_test)})
    assert _untimed(wrapped) == _untimed(general)
    assert list(wrapped["metrics"]) == ["epochs_run", "best_epoch", "best_val_loss", "final_val_loss",
                                        "final_val_accuracy", "final_train_accuracy", "seconds_per_epoch",
                                        "test_loss", "test_accuracy"]


@pytest.mark.parametrize("kwargs, message", [
    ({"monitor_mode": "lowest"}, "monitor_mode must be 'auto', 'min' or 'max', got 'lowest'"),
    ({"monitor": "val_psnr"}, "monitor='val_psnr' is better low or high: pass monitor_mode"),
    ({"evaluate": {"test": (None, None)}}, r"evaluation sets \['test'\] have no inputs"),
])
def test_bad_arguments_are_named_before_training(kwargs, message):
    data, _ = _split(np.zeros((96, 8), "float32"), np.zeros((96, 8), "float32"))
    with pytest.raises(ValueError, match=message):
        fit(_autoencoder(), data, keras.optimizers.Adam(), "mse", [], 1, 32, **kwargs)


def test_an_unknown_monitor_names_the_history_entries():
    data, _ = _split(np.zeros((96, 8), "float32"), np.zeros((96, 8), "float32"))
    with pytest.raises(ValueError, match=r"monitor='val_mae' is not in the training history: use one of \["):
        fit(_autoencoder(), data, keras.optimizers.Adam(), "mse", [], 1, 32, monitor="val_mae")
