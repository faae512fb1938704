"""The seed CIFAR-10 CNN (seeds/004): two Conv-BN-ReLU-MaxPool blocks, Dense 128, Dropout, Dense 10."""

import keras
from keras import layers

from suite.models import conventions as conv


def cifar_cnn(dropout=0.5, conventions="keras", kernel_size=3, mean=None, std=None, input_shape=(32, 32, 3),
              classes=10, name="cifar_cnn"):
    """Build Conv(32)-BN-ReLU-MaxPool, Conv(64)-BN-ReLU-MaxPool, Flatten, Dense 128 ReLU, Dropout, Dense 10.

    Convolutions use "same" padding and keep their bias (PyTorch's `nn.Conv2d` default), so
    with 3x3 kernels the flattened features are 8 * 8 * 64 = 4096 and the model has 545,482
    parameters (545,098 trainable). Layers are named `conv1, bn1, conv2, bn2, fc1, dropout,
    logits, softmax`.

    Args:
        dropout: rate of the dropout after `fc1` (0 for none). Defaults to `0.5`.
        conventions: `"keras"` (glorot-uniform kernels, zero biases, BatchNorm momentum 0.99,
            epsilon 1e-3) or `"torch"` (PyTorch's default init, BatchNorm momentum 0.9 in Keras
            terms, epsilon 1e-5); see `suite.models.conventions`. Defaults to `"keras"`.
        kernel_size: side of the convolution kernels. Defaults to `3`.
        mean, std: per-channel input statistics; when given, a fixed `Normalization` layer
            standardizes the [0, 1] input inside the model (so zero padding stays black).
            Defaults to `None` (no normalization).
        input_shape: shape of one image. Defaults to `(32, 32, 3)`.
        classes: number of outputs. Defaults to `10`.
        name: model name. Defaults to `"cifar_cnn"`.

    Example:
        >>> cifar_cnn(conventions="torch").count_params()
        545482
    """
    inputs = keras.Input(input_shape)
    x = inputs
    if mean is not None:
        x = layers.Normalization(mean=list(mean), variance=[s * s for s in std], name="normalize")(x)
    channels = input_shape[-1]
    for i, filters in enumerate((32, 64), start=1):
        x = layers.Conv2D(filters, kernel_size, padding="same", name=f"conv{i}",
                          **conv.initializers(conventions, kernel_size * kernel_size * channels))(x)
        x = layers.BatchNormalization(name=f"bn{i}", **conv.batchnorm(conventions))(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        channels = filters
    x = layers.Flatten(name="flatten")(x)
    fan_in = x.shape[-1]
    x = layers.Dense(128, activation="relu", name="fc1", **conv.initializers(conventions, fan_in))(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    logits = layers.Dense(classes, name="logits", **conv.initializers(conventions, 128))(x)
    outputs = layers.Activation("softmax", name="softmax")(logits)
    return keras.Model(inputs, outputs, name=name)
