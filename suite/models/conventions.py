"""Framework conventions as a parameter (DESIGN.md section 6b).

Keras initializes kernels glorot-uniform with zero biases; PyTorch's `nn.Linear`/`nn.Conv2d`
use kaiming_uniform(a=sqrt 5), i.e. U(+-sqrt(1/fan_in)), for both kernel and bias. A task that
reproduces a PyTorch study builds its model with `conventions="torch"`.
"""

import math

import keras

CONVENTIONS = ("keras", "torch")


def check(conventions):
    if conventions not in CONVENTIONS:
        raise ValueError(f"conventions must be one of {CONVENTIONS}, got {conventions!r}")


def initializers(conventions, fan_in):
    """`dict(kernel_initializer=..., bias_initializer=...)` for a layer with `fan_in` inputs."""
    check(conventions)
    if conventions == "keras":
        return {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}
    bound = 1.0 / math.sqrt(fan_in)
    return {"kernel_initializer": keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
            "bias_initializer": keras.initializers.RandomUniform(-bound, bound)}


def batchnorm(conventions):
    """`dict(momentum=..., epsilon=...)` for `keras.layers.BatchNormalization`.

    PyTorch's BatchNorm updates its running statistics with momentum 0.1 in its own sense
    (new = 0.9 * old + 0.1 * batch), which is Keras `momentum=0.9`, and uses epsilon 1e-5;
    Keras defaults to momentum 0.99 and epsilon 1e-3.
    """
    check(conventions)
    return {"momentum": 0.99, "epsilon": 1e-3} if conventions == "keras" else {"momentum": 0.9, "epsilon": 1e-5}
