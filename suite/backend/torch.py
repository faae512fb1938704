"""PyTorch: gradients with autograd (`torch.autograd.grad`, which leaves `.grad` untouched)."""

import torch


def value_and_grads(model, x, y, loss_fn, training=False):
    params = [v.value for v in model.trainable_variables]
    loss = loss_fn(y, model(x, training=training))
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return float(loss.detach().cpu()), [
        g.detach().cpu().numpy() if g is not None else torch.zeros_like(p).cpu().numpy() for g, p in zip(grads, params)
    ]


def devices():
    if torch.cuda.is_available():
        return [f"cuda:{i} {torch.cuda.get_device_name(i)}" for i in range(torch.cuda.device_count())]
    return []
