"""Named weight initializations for dense layers (studies of initialization vs depth).

`"torch"` is PyTorch's `nn.Linear` default (kaiming_uniform(a=sqrt 5): kernel and bias
U(+-1/sqrt(fan_in)), `suite.models.conventions`); `"glorot"`, `"he"` and `"orthogonal"` are
Keras's `glorot_uniform`, `he_uniform` and `orthogonal` (gain 1) kernels with zero biases, as
PyTorch code writes `nn.init.xavier_uniform_` / `kaiming_uniform_` / `orthogonal_` with
`zeros_` on the bias.
"""

import keras

from suite.models import conventions as conv

INITS = ("torch", "glorot", "he", "orthogonal")
LABELS = {"torch": "PyTorch default", "glorot": "Glorot (Xavier) uniform", "he": "He (Kaiming) uniform",
          "orthogonal": "orthogonal"}
_KERNELS = {"glorot": keras.initializers.GlorotUniform, "he": keras.initializers.HeUniform,
            "orthogonal": keras.initializers.Orthogonal}


def initializers(init, fan_in):
    """`dict(kernel_initializer=..., bias_initializer=...)` of the named scheme for a layer with `fan_in` inputs."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if init == "torch":
        return conv.initializers("torch", fan_in)
    return {"kernel_initializer": _KERNELS[init](), "bias_initializer": "zeros"}
