"""task10 (weights) end to end in the smoke profile on real MNIST, on every backend."""

import numpy as np
import pytest

from conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_task10_smoke(smoke, backend, mnist_available):
    run = smoke("task10", backend)
    main = {r["arm"]: r for r in run.records()}
    assert set(main) == {"plain", "l2_0.01"}
    for arm, r in main.items():
        m, units = r["metrics"], r["kernel_units"]
        assert r["status"] == "ok" and m["test_accuracy"] > 0.5, arm
        init, trained = np.array(units["initial"]), np.array(units["trained"])
        assert init.shape == trained.shape == (16, 784)
        limit = np.sqrt(6 / (784 + 128))  # Glorot uniform
        assert np.abs(init).max() <= limit + 1e-4 and not np.array_equal(init, trained)
        probe = r["probes"]["weights"]
        k = probe["kernels"].index("hidden1/kernel")
        assert m["std_init"] == pytest.approx(probe["std"][0][probe["variables"].index("hidden1/kernel")], rel=1e-5)
        assert 1.0 <= m["eff_rank_final"] <= 128.0
        sv = probe["singular_values"][-1][k]
        assert len(sv) == 128 and sv == sorted(sv, reverse=True)
    # same seed, same initialization in both arms
    np.testing.assert_array_equal(main["plain"]["kernel_units"]["initial"], main["l2_0.01"]["kernel_units"]["initial"])
    text = run.writeup()
    assert "L2 forces weights closer to zero" in text
    assert (run.submission / "figures" / "task10_images.png").stat().st_size > 10_000
