"""Training: one general `fit` for any loss and named evaluation sets, and the shared CIFAR protocol."""
