"""Probes that see inside training, written once for every backend (DESIGN.md section 6).

Each is a `suite.probes.base.Probe`, a `keras.callbacks.Callback` that records points into
`probe.history` (JSON-able; store it as `out["probes"][name]`) at the end of chosen epochs and,
with `every_steps`, every N optimizer steps; never changes training; and counts its own cost in
`probe.seconds`. The probes of internals (gradients, weights, drift, activations) also record a
point before training (epoch 0); the scalar probes (evaluation, calibration) instead write their
numbers into each epoch's logs under a `prefix`, so they land in Keras's `History`.

    from suite.probes import (ActivationProbe, CalibrationProbe, DriftProbe, EvaluationProbe,
                              GradientProbe, StepGradientNorms, WeightProbe, linear_cka)

`StepGradientNorms` is the one that is not a `Probe`: it records the gradient every optimizer
step inside the compiled train step, through the optimizer it wraps.
"""

from suite.probes.activations import ActivationProbe
from suite.probes.base import Probe
from suite.probes.calibration import CalibrationProbe
from suite.probes.cka import linear_cka
from suite.probes.drift import DriftProbe
from suite.probes.evaluation import EvaluationProbe
from suite.probes.gradients import GradientProbe
from suite.probes.step_gradients import StepGradientNorms
from suite.probes.weights import WeightProbe

__all__ = ["ActivationProbe", "CalibrationProbe", "DriftProbe", "EvaluationProbe", "GradientProbe", "Probe",
           "StepGradientNorms", "WeightProbe", "linear_cka"]
