"""suite.probes on the current backend: the math on synthetic arrays, each callback driven through
its hooks on a tiny model, and a check that probes leave training untouched."""

import keras
import numpy as np
import pytest

from suite import backend
from suite.report import probeplots
from suite.probes import (ActivationProbe, CalibrationProbe, DriftProbe, EvaluationProbe, GradientProbe,
                          WeightProbe, linear_cka)
from suite.probes.activations import activation_stats, default_layers
from suite.measures.calibration import ece
from suite.probes.drift import mean_cosine
from suite.probes.gradients import gradient_stats
from suite.probes.weights import effective_rank, histogram, singular_values

# ---------------------------------------------------------------- math on synthetic arrays


def test_cka_invariant_to_rotation_and_isotropic_scaling():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 20))
    q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, x @ q) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, 7.5 * x) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(x, x + 3.0) == pytest.approx(1.0, abs=1e-12)  # centered: a shift changes nothing


def test_cka_near_zero_for_independent_and_symmetric():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2000, 10)), rng.normal(size=(2000, 15))
    assert linear_cka(a, b) < 0.02  # expectation is O(d/n) for independent Gaussians
    assert linear_cka(a, b) == pytest.approx(linear_cka(b, a), abs=1e-14)
    mixed = a @ rng.normal(size=(10, 15)) + 0.5 * b  # related but not a rotation: strictly between
    assert 0.1 < linear_cka(a, mixed) < 0.99


def test_cka_flattens_and_rejects_mismatched_samples():
    x = np.random.default_rng(2).normal(size=(50, 4, 3))
    assert linear_cka(x, x.reshape(50, 12)) == pytest.approx(1.0)
    assert np.isnan(linear_cka(np.ones((10, 3)), x[:10, 0]))
    with pytest.raises(ValueError, match="same samples"):
        linear_cka(x[:10], x[:11])


def test_histogram_counts_everything_on_fixed_bins():
    bins = np.linspace(-0.5, 0.5, 101)
    v = np.array([-3.0, -0.5, -0.2, 0.0, 0.2, 0.49, 0.5, 9.0])
    h = histogram(v, bins)
    assert h.sum() == v.size and len(h) == 100
    assert h[0] == 2 and h[-1] == 3  # -3 clipped into the first bin; 0.49, 0.5 and 9 in the last
    big = np.random.default_rng(3).normal(0, 1, (784, 128))
    assert histogram(big, bins).sum() == big.size


def test_singular_values_and_effective_rank():
    m = np.random.default_rng(4).normal(size=(50, 8))
    np.testing.assert_allclose(singular_values(m), np.linalg.svd(m, compute_uv=False), rtol=1e-10)
    np.testing.assert_allclose(singular_values(m.T), np.linalg.svd(m, compute_uv=False), rtol=1e-10)
    assert effective_rank(np.ones(6)) == pytest.approx(6.0)
    assert effective_rank([5.0, 0, 0]) == pytest.approx(1.0)
    assert effective_rank(singular_values(np.outer(np.arange(1, 11), np.arange(1, 5)))) == pytest.approx(1.0, abs=1e-6)
    assert effective_rank(np.zeros(3)) == 0.0


def test_gradient_stats_by_hand():
    kernel = np.array([[1.0, 0.0], [3.0, 0.0]])  # two minibatches' gradients of a 2-vector
    bias = np.array([[2.0], [-2.0]])
    s = gradient_stats([kernel, bias])
    assert s["norm"] == pytest.approx([2.0, 0.0])  # mean gradients (2, 0) and (0)
    assert s["batch_norm_mean"] == pytest.approx([2.0, 2.0])
    assert s["batch_norm_var"] == pytest.approx([1.0, 0.0])
    assert s["noise"] == pytest.approx([1.0, 4.0])  # mean ||g_b - g_mean||^2


def test_activation_stats_and_cosine():
    a = np.array([[0.0, 1.0, -0.5, 0.995], [0.0, 2.0, -1.0, 0.2]])
    s = activation_stats(a, 0.0, bound=1.0)
    assert s["dead_fraction"] == pytest.approx(0.5)  # units 0 and 2 never above 0
    assert s["saturated_fraction"] == pytest.approx(4 / 8)  # |a| of 1.0, 2.0, 0.995 and -1.0 exceed 0.99
    assert activation_stats(a)["saturated_fraction"] == 0.0
    assert s["mean"] == pytest.approx(a.mean()) and s["std"] == pytest.approx(a.std())
    x = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    y = np.array([[2.0, 0.0], [0.0, 0.0], [-1.0, -1.0]])
    assert mean_cosine(x, y) == pytest.approx((1 + 1 - 1) / 3)


# ---------------------------------------------------------------- callbacks on a tiny model


def tiny_model(activation="relu", dropout=0.0, depth=1):
    inputs = keras.Input((6,))
    h = inputs
    for i in range(1, depth + 1):
        h = keras.layers.Dense(8, activation=activation, name=f"hidden{i}")(h)
    if dropout:
        h = keras.layers.Dropout(dropout)(h)
    logits = keras.layers.Dense(3, name="logits")(h)
    return keras.Model(inputs, keras.layers.Activation("softmax", name="softmax")(logits))


def tiny_data(n=96):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)


def drive(probe, model, epochs=2, steps=3, change=None):
    """Run a probe's hooks as fit would, calling `change(model)` between epochs (stands in for training)."""
    probe.set_model(model)
    probe.set_params({"epochs": epochs, "steps": steps, "verbose": 0})
    probe.on_train_begin()
    for epoch in range(epochs):
        probe.on_epoch_begin(epoch)
        if change:
            change(model)
        probe.on_epoch_end(epoch, {"loss": 1.0})
    probe.on_train_end()
    return probe.history


def perturb(model):
    kernel = model.get_layer("hidden1").kernel
    kernel.assign(keras.ops.convert_to_numpy(kernel) + 0.3 * np.random.default_rng(6).normal(size=kernel.shape))


def test_gradient_probe_matches_the_adapter():
    keras.utils.set_random_seed(0)
    model, (x, y) = tiny_model(), tiny_data()
    probe = GradientProbe(x, y, batch_size=16, batches=4)
    h = drive(probe, model, epochs=2, change=perturb)
    assert h["epoch"] == [0.0, 1.0, 2.0] and h["step"] == [0, 0, 0]  # no optimizer: step stays 0
    assert h["variables"] == ["hidden1/kernel", "hidden1/bias", "logits/kernel", "logits/bias"]
    loss = keras.losses.SparseCategoricalCrossentropy()
    grads = [backend.value_and_grads(model, x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16], loss)[1] for i in range(4)]
    expected = gradient_stats([np.stack(g) for g in zip(*grads)])
    for key in ("norm", "batch_norm_mean", "batch_norm_var", "noise"):
        np.testing.assert_allclose(h[key][-1], expected[key], rtol=1e-5)
        assert len(h[key]) == 3 and len(h[key][0]) == 4
    assert h["norm"][0] != h["norm"][1]  # the weights changed, so did the gradients
    assert probe.seconds > 0


def test_gradient_probe_epoch_selection_and_errors():
    model, (x, y) = tiny_model(), tiny_data()
    h = drive(GradientProbe(x, y, batch_size=16, epochs=[2]), model, epochs=3)
    assert h["epoch"] == [0.0, 2.0]
    assert h["batches"] == 6  # 96 samples hold only 6 of the 8 default batches of 16
    with pytest.raises(ValueError, match="at least batch_size=32"):
        GradientProbe(x[:20], y[:20])


def test_gradient_probe_every_steps_in_fit():
    keras.utils.set_random_seed(0)
    model, (x, y) = tiny_model(), tiny_data()
    model.compile("sgd", "sparse_categorical_crossentropy", steps_per_execution=1)
    probe = GradientProbe(x, y, batch_size=16, batches=2, every_steps=2, max_steps=5)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[probe])  # 6 steps per epoch
    h = probe.history
    assert h["step"] == [0, 2, 4, 6, 12]  # steps 2, 4 by the step rule (max 5), then epoch ends
    assert h["epoch"] == pytest.approx([0, 2 / 6, 4 / 6, 1, 2])


def test_weight_probe_reads_the_model():
    model = tiny_model()
    h = drive(WeightProbe(), model, epochs=2, change=perturb)
    kernel = keras.ops.convert_to_numpy(model.get_layer("hidden1").kernel)
    assert h["kernels"] == ["hidden1/kernel", "logits/kernel"]
    assert h["norm"][-1][0] == pytest.approx(np.linalg.norm(kernel), rel=1e-6)
    assert h["std"][-1][0] == pytest.approx(kernel.std(), rel=1e-5)
    for point in h["hist"]:
        assert [sum(c) for c in point] == [48, 8, 24, 3]  # every weight counted once
    np.testing.assert_allclose(h["singular_values"][-1][0], np.linalg.svd(kernel, compute_uv=False), rtol=1e-5)
    assert 1 <= h["effective_rank"][-1][0] <= 6
    assert h["norm"][0][0] != h["norm"][1][0]
    assert len(h["bins"]) == 101


def test_drift_probe_sees_change_and_no_change():
    model, (x, _) = tiny_model(), tiny_data()
    still = drive(DriftProbe(x), model, epochs=2)
    assert still["cka_prev"] == pytest.approx([1, 1, 1]) and still["cos_first"] == pytest.approx([1, 1, 1])
    moved = drive(DriftProbe(x), model, epochs=2, change=perturb)
    assert moved["cka_first"][0] == 1.0 and moved["cka_first"][1] < 0.999
    assert moved["cka_prev"][2] < 0.999 and moved["cos_first"][2] < 0.999


def test_drift_probe_on_two_layers_keeps_one_record_per_layer():
    model, (x, _) = tiny_model(depth=2), tiny_data()
    start = model.get_weights()
    both = drive(DriftProbe(x, layers=["hidden1", "hidden2"]), model, epochs=2, change=perturb)
    assert both["layers"] == ["hidden1", "hidden2"] and "layer" not in both
    assert both["epoch"] == [0.0, 1.0, 2.0] and both["cka_first"][0] == [1.0, 1.0]
    assert max(both["cka_first"][2]) < 0.999  # hidden1 moved, and hidden2 with it
    for i, name in enumerate(both["layers"]):  # each column is a one-layer probe's record, under today's keys
        model.set_weights(start)
        single = drive(DriftProbe(x, layers=name), model, epochs=2, change=perturb)
        assert set(single) == {"epoch", "layer", "cka_prev", "cka_first", "cos_first"} and single["layer"] == name
        for key in DriftProbe.FIELDS:
            assert single[key] == pytest.approx(probeplots.column(both, key, name, "layers"), rel=1e-12)
    with pytest.raises(ValueError, match="at least one layer"):
        DriftProbe(x, layers=[])


def test_activation_probe_counts_dead_and_saturated_units():
    model, (x, _) = tiny_model(), tiny_data()
    assert default_layers(model) == ["hidden1"]

    def kill(m):
        bias = m.get_layer("hidden1").bias
        bias.assign(np.array([-100.0] * 4 + [0.0] * 4))  # half the units can never fire on these inputs

    h = drive(ActivationProbe(x), model, epochs=1, change=kill)
    assert h["layers"] == ["hidden1"] and h["dead_fraction"][-1] == [0.5]
    assert h["saturated_fraction"][-1] == [0.0]  # ReLU has no bound
    sat = drive(ActivationProbe(x), tiny_model("tanh"), epochs=1,
                change=lambda m: m.get_layer("hidden1").kernel.assign(100 * np.ones((6, 8))))
    assert sat["saturated_fraction"][0][0] < 0.5 < sat["saturated_fraction"][1][0]
    with pytest.raises(ValueError, match="no hidden Dense layer"):
        drive(ActivationProbe(x), keras.Sequential([keras.Input((6,)), keras.layers.Dense(3)]), epochs=1)


def test_every_steps_on_a_weight_probe_and_reuse():
    keras.utils.set_random_seed(0)
    model, (x, y) = tiny_model(), tiny_data()
    model.compile("sgd", "sparse_categorical_crossentropy", steps_per_execution=1)
    probe = WeightProbe(every_steps=2, max_steps=5)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[probe])  # 6 steps per epoch
    assert probe.history["epoch"] == pytest.approx([0, 2 / 6, 4 / 6, 1, 2])  # steps 0, 2, 4, then epoch ends
    assert "step" not in probe.history  # the weight record keeps today's keys
    first = probe.history["norm"]
    assert len(first) == 5 and first[1] != first[0]
    kernel = keras.ops.convert_to_numpy(model.get_layer("hidden1").kernel)
    assert first[-1][0] == pytest.approx(np.linalg.norm(kernel), rel=1e-6)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[probe])  # reused: a fresh history
    assert probe.history["epoch"] == [0.0, 1.0]  # steps 13-18 lie past max_steps=5
    assert probe.history["norm"][0] == first[-1]


def test_every_steps_rejects_a_bad_value():
    with pytest.raises(ValueError, match="every_steps must be a positive integer"):
        WeightProbe(every_steps=0)


def test_evaluation_probes_with_two_prefixes_coexist_in_the_history():
    keras.utils.set_random_seed(1)
    model, (x, y) = tiny_model(), tiny_data()
    noisy = np.where(np.arange(len(y)) % 3 == 0, (y + 1) % 3, y)  # a third of the labels wrong
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    train_eval, true_eval = EvaluationProbe(x, noisy, every_steps=4), EvaluationProbe(x, y, prefix="true_eval_")
    fit = model.fit(x, noisy, batch_size=16, epochs=3, verbose=0, callbacks=[train_eval, true_eval])
    h = fit.history
    for probe, labels in ((train_eval, noisy), (true_eval, y)):
        p = probe.prefix
        assert len(h[p + "loss"]) == len(h[p + "accuracy"]) == 3  # one per epoch, none before training
        after = model.evaluate(x, labels, verbose=0, return_dict=True)
        assert h[p + "accuracy"][-1] == pytest.approx(after["accuracy"])
        assert h[p + "loss"][-1] == pytest.approx(after["loss"])
        assert h[p + "loss"] == [v for e, v in zip(probe.history["epoch"], probe.history[p + "loss"]) if e % 1 == 0]
    assert train_eval.history["epoch"] == pytest.approx([4 / 6, 1, 8 / 6, 2, 16 / 6, 3])  # steps 4, 6, 8, 12, 16, 18
    assert true_eval.history["epoch"] == [1.0, 2.0, 3.0]
    assert h["true_eval_loss"] != h["train_eval_loss"]  # the same model, scored against other labels


def test_evaluation_probe_records_chosen_metrics_and_names_a_missing_one():
    model, (x, y) = tiny_model(), tiny_data()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    fit = model.fit(x, y, batch_size=32, epochs=1, verbose=0,
                    callbacks=[EvaluationProbe(x, y, prefix="clean_", metrics=["accuracy"])])
    assert "clean_accuracy" in fit.history and "clean_loss" not in fit.history
    with pytest.raises(ValueError, match=r"no metric \['auc'\]"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[EvaluationProbe(x, y, metrics=["auc"])])


def test_calibration_probe_logs_the_ece():
    model, (x, y) = tiny_model(), tiny_data()
    model.compile("sgd", "sparse_categorical_crossentropy")
    probe = CalibrationProbe(x, y, prefix="probe_", bins=10)
    fit = model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[probe])
    assert len(fit.history["probe_ece"]) == 2 and probe.history["epoch"] == [1.0, 2.0]
    assert fit.history["probe_ece"][-1] == pytest.approx(ece(model.predict(x, verbose=0), y, 10))
    assert probe.history["probe_ece"] == fit.history["probe_ece"]


def test_probes_do_not_change_training():
    """Same seed with and without every probe: identical weights and logged training loss after two epochs,
    with dropout and shuffling, on the in-process backend (JAX; TensorFlow too). On torch, evaluate and predict
    advance the global random state (see suite.probes.evaluation), so there only the procedure is the same.
    Regression: a mid-epoch evaluation reset the running means fit logs; a mid-epoch submodel read purged weights."""
    x, y = tiny_data(128)

    def train(with_probes):
        keras.utils.set_random_seed(3)
        model = tiny_model(dropout=0.3)
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
        probes = [GradientProbe(x, y, batch_size=16, batches=2, every_steps=3), WeightProbe(every_steps=5),
                  DriftProbe(x, every_steps=4), ActivationProbe(x), EvaluationProbe(x, y, every_steps=3),
                  EvaluationProbe(x[:32], y[:32], prefix="true_eval_"), CalibrationProbe(x, y)] if with_probes else []
        fit = model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=probes)
        return [keras.ops.convert_to_numpy(v) for v in model.weights], fit.history, probes

    plain, plain_history, _ = train(False)
    probed, probed_history, probes = train(True)
    for a, b in zip(plain, probed):
        np.testing.assert_array_equal(a, b)
    for key in ("loss", "accuracy"):  # the running means fit logs: mid-epoch evaluations left them alone
        assert probed_history[key] == plain_history[key]
    assert all(len(p.history["epoch"]) >= 2 for p in probes)
