"""task05 (dropout): suite.measures.gap and suite.probes.EvaluationProbe on a tiny model (the smoke run is
in tests/test_smoke.py)."""

import keras
import numpy as np
import pytest

from suite.measures.gap import PREFIX, add_gaps
from suite.probes import EvaluationProbe


def _data(n=256):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64")


def _fit(callbacks, dropout=0.8):
    x, y = _data()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(dropout), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    fit = model.fit(x, y, batch_size=32, epochs=3, validation_data=(x[:64], y[:64]), callbacks=callbacks,
                    verbose=0, shuffle=False)
    return model, fit.history, (x, y)


def test_training_set_evaluation_logs_inference_mode_numbers_without_changing_training():
    x, y = _data()
    model, history, _ = _fit([EvaluationProbe(x[:64], y[:64])])
    assert len(history[PREFIX + "loss"]) == len(history[PREFIX + "accuracy"]) == 3
    after = model.evaluate(x[:64], y[:64], verbose=0, return_dict=True)
    assert history[PREFIX + "loss"][-1] == pytest.approx(after["loss"], rel=1e-5)
    # the same 64 images are the validation set here, so inference-mode train and val numbers coincide,
    # while fit's logged loss (dropout 0.8 on) is far from both
    assert history[PREFIX + "loss"][-1] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    assert abs(history["loss"][-1] - history[PREFIX + "loss"][-1]) > 0.05


def test_training_set_evaluation_does_not_change_deterministic_training():
    # Without dropout training draws no random numbers after the start, so a run with the probe must end
    # with exactly the weights of a run without it. (With dropout, torch's evaluate advances the random
    # state, so the masks differ after the first epoch: same procedure, another random stream.)
    x, y = _data()
    probed, _, _ = _fit([EvaluationProbe(x[:64], y[:64])], dropout=0.0)
    plain, _, _ = _fit([], dropout=0.0)
    for a, b in zip(probed.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_training_set_evaluation_rejects_mismatched_data():
    with pytest.raises(ValueError, match="equal length"):
        EvaluationProbe(np.zeros((3, 2)), np.zeros(2))


def test_add_gaps_signs():
    h = add_gaps({PREFIX + "loss": [0.5, 0.1], "val_loss": [0.6, 0.3],
                  PREFIX + "accuracy": [0.90, 0.99], "val_accuracy": [0.88, 0.97]})
    assert h["loss_gap"] == pytest.approx([0.1, 0.2])  # validation minus training loss
    assert h["accuracy_gap"] == pytest.approx([0.02, 0.02])  # training minus validation accuracy
