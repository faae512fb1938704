"""Optimizers by name, as the studies compare them."""

import keras

NAMES = ("sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw")
LABELS = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "nesterov": "SGD + Nesterov 0.9", "rmsprop": "RMSprop",
          "adam": "Adam", "adamw": "AdamW"}


def make(name, lr, weight_decay=1e-4):
    """A fresh Keras optimizer: `"sgd"`, `"momentum"` / `"nesterov"` (0.9), `"rmsprop"`, `"adam"`,
    or `"adamw"` (with `weight_decay`), at learning rate `lr`."""
    factories = {
        "sgd": lambda: keras.optimizers.SGD(lr),
        "momentum": lambda: keras.optimizers.SGD(lr, momentum=0.9),
        "nesterov": lambda: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True),
        "rmsprop": lambda: keras.optimizers.RMSprop(lr),
        "adam": lambda: keras.optimizers.Adam(lr),
        "adamw": lambda: keras.optimizers.AdamW(lr, weight_decay=weight_decay),
    }
    if name not in factories:
        raise ValueError(f"optimizer must be one of {NAMES}, got {name!r}")
    return factories[name]()
