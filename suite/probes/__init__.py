"""Probes that see inside training, written once for every backend (DESIGN.md section 6).

Each is a `keras.callbacks.Callback` that records a point before training (epoch 0) and at the
end of chosen epochs into `probe.history` (JSON-able; store it as `out["probes"][name]`), never
changes training, and counts its own cost in `probe.seconds`.

    from suite.probes import GradientProbe, WeightProbe, DriftProbe, ActivationProbe, linear_cka
"""

from suite.probes.activations import ActivationProbe
from suite.probes.cka import linear_cka
from suite.probes.drift import DriftProbe
from suite.probes.gradients import GradientProbe
from suite.probes.weights import WeightProbe

__all__ = ["ActivationProbe", "DriftProbe", "GradientProbe", "WeightProbe", "linear_cka"]
