"""PyTorch: gradients with autograd (`torch.autograd.grad`, which leaves `.grad` untouched)."""

import contextlib

import numpy as np
import torch

ACCUMULATES = True  # loss.backward() adds into each parameter's .grad


def _numpy(t):
    return t.detach().cpu().numpy()


def value_and_grads(model, x, y, loss_fn, training=False):
    params = [v.value for v in model.trainable_variables]
    loss = loss_fn(y, model(x, training=training))
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return float(_numpy(loss)), [_numpy(torch.zeros_like(p)) if g is None else _numpy(g) for g, p in zip(grads, params)]


def batch_grads(model, xs, ys, loss_fn, training=False):
    results = [value_and_grads(model, x, y, loss_fn, training) for x, y in zip(xs, ys)]
    return np.array([loss for loss, _ in results]), [np.stack(g) for g in zip(*(grads for _, grads in results))]


def fuse_train_steps(model):
    """Nothing to do: Keras's torch trainer has no `steps_per_execution` chunks to fuse."""


def grads_of(fn, variables):
    params = [v.value for v in variables]
    value = fn()
    grads = torch.autograd.grad(value, params, allow_unused=True)
    return float(_numpy(value)), [None if g is None else _numpy(g) for g in grads]


def backward_twice(fn, variables):
    params = [v.value for v in variables]
    saved = [p.grad for p in params]
    for p in params:
        p.grad = None
    try:
        for _ in range(2):
            fn().backward()  # a fresh graph each pass; .grad sums the two
        return [None if p.grad is None else _numpy(p.grad).copy() for p in params]
    finally:
        for p, g in zip(params, saved):
            p.grad = g


def float64():
    return contextlib.nullcontext()


def devices():
    if torch.cuda.is_available():
        return [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
    return []


def limit_threads(threads):
    torch.set_num_threads(threads)


def enable_determinism():
    """Deterministic algorithms only (an error where none exists) and no cuDNN autotuning."""
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False
