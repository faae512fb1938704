"""The MNIST MLP of the seed studies: Flatten -> Dense(128) -> [Dropout] -> Dense(10) -> softmax."""

import math

import keras
from keras import layers

from suite.models import conventions as conv
from suite.models import inits


def mlp(hidden=(128,), activation="relu", dropout=0.0, l2=0.0, input_shape=(28, 28), classes=10,
        conventions="keras", init=None, name="mlp"):
    """Build a fully connected classifier.

    The logits and the softmax are separate layers (`"logits"`, `"softmax"`), so probes can read
    logits; hidden layers are named `hidden1`, `hidden2`, ...

    Args:
        hidden: units of each hidden layer. Defaults to `(128,)`.
        activation: hidden activation (any Keras activation name). Defaults to `"relu"`.
        dropout: dropout rate after each hidden layer (0 for none). Defaults to `0.0`.
        l2: L2 penalty on the hidden kernels (0 for none). Defaults to `0.0`.
        input_shape: shape of one input. Defaults to `(28, 28)`.
        classes: number of outputs. Defaults to `10`.
        conventions: `"keras"` or `"torch"` initialization. Defaults to `"keras"`.
        init: a scheme of `suite.models.inits` (`"torch"`, `"glorot"`, `"he"`,
            `"orthogonal"`) for every layer, instead of `conventions`. Defaults to `None`.
        name: model name. Defaults to `"mlp"`.

    Example:
        >>> model = mlp(dropout=0.1)
        >>> model.count_params()
        101770
    """
    inputs = keras.Input(input_shape)
    x = layers.Flatten()(inputs)
    fan_in = math.prod(input_shape)
    for i, units in enumerate(hidden, start=1):
        x = layers.Dense(units, activation=activation, name=f"hidden{i}",
                         kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
                         **_initializers(conventions, init, fan_in))(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i}")(x)
        fan_in = units
    logits = layers.Dense(classes, name="logits", **_initializers(conventions, init, fan_in))(x)
    outputs = layers.Activation("softmax", name="softmax")(logits)
    return keras.Model(inputs, outputs, name=name)


def _initializers(conventions, init, fan_in):
    return conv.initializers(conventions, fan_in) if init is None else inits.initializers(init, fan_in)
