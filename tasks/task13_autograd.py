"""Task13: do the backends' autodiff gradients agree with hand-derived backprop and finite differences?

A 2-layer network from raw Keras variables, no layers: h = relu(x W1 + b1), p = softmax(h W2 + b2),
loss = mean cross-entropy on a batch of MNIST training images. Each seed draws the weights and the
batch with NumPy, so every backend sees the same numbers. Per run: the forward loss, the backend's
gradient (`suite.backend.grads_of`), backprop derived by hand in NumPy (float64), and central
finite differences (float64, NumPy, sampled coordinates); then gradient accumulation over two
backward passes in each backend's idiom, and what `keras.ops.stop_gradient` on h does.

    python -m suite.run task13 --backend all --profile quick   # ~4 min in all on a busy 2-core CPU
"""

import time
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd

from suite import backend
from suite.report import findings, plots
from suite.data import mnist
from suite.study.stages import Stage

DATA = ("mnist",)  # checked before anything runs
FD_EPS = 1e-6
TOL = {"float32": 1e-5, "float64": 1e-10}  # "exact up to rounding" for autodiff vs analytic
HEADLINE = ("digits_autodiff_analytic", "agreeing digits, autodiff vs analytic", 1.0)
NAMES = ("W1", "b1", "W2", "b2")


@dataclass(frozen=True)
class Config:
    name: str
    width: int  # hidden units
    dtype: str  # precision of the backend's computation (the references are always float64)
    batch: int
    fd_coords: int  # finite-difference coordinates sampled per variable
    epochs: int = 1  # one gradient check counts as one unit of progress


def _configs(profile):
    widths = profile.pick(smoke=(16,), quick=(16, 128), full=(16, 128))
    batch, coords = profile.pick(smoke=(32, 8), quick=(128, 64), full=(128, 256))
    return [Config(f"w{w}_{d}", w, d, batch, coords) for w in widths for d in ("float32", "float64")]


def stages(profile, options):
    return [Stage("main", _configs(profile))]


# ---------------------------------------------------------------- the network, three ways

def init(width, seed, batch):
    rng = np.random.default_rng(seed)
    data = mnist.splits()
    idx = rng.choice(len(data.y_train), batch, replace=False)
    x, y = data.x_train[idx].reshape(batch, -1).astype(np.float64), data.y_train[idx]
    params = [rng.normal(0, np.sqrt(2 / (784 + width)), (784, width)), rng.normal(0, 0.1, width),
              rng.normal(0, np.sqrt(2 / (width + 10)), (width, 10)), rng.normal(0, 0.1, 10)]
    return params, x, y


def numpy_loss(params, x, y):
    w1, b1, w2, b2 = params
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0)
    z2 = h @ w2 + b2
    z2 = z2 - z2.max(axis=1, keepdims=True)
    p = np.exp(z2) / np.exp(z2).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(y)), y]).mean(), (z1, h, p)


def numpy_backprop(params, x, y):
    """dL/dz2 = (p - onehot)/B; dW2 = h^T dz2; db2 = sum dz2; dh = dz2 W2^T; dz1 = dh * [z1 > 0]; ..."""
    _, (z1, h, p) = numpy_loss(params, x, y)
    dz2 = p.copy()
    dz2[np.arange(len(y)), y] -= 1
    dz2 /= len(y)
    dz1 = (dz2 @ params[2].T) * (z1 > 0)
    return [x.T @ dz1, dz1.sum(axis=0), h.T @ dz2, dz2.sum(axis=0)]


def finite_differences(params, x, y, coords):
    """Central differences at the sampled (variable, flat index) coordinates."""
    out = []
    for k, idx in coords:
        p = [q.copy() for q in params]
        flat = p[k].reshape(-1)
        flat[idx] += FD_EPS
        up = numpy_loss(p, x, y)[0]
        flat[idx] -= 2 * FD_EPS
        out.append((up - numpy_loss(p, x, y)[0]) / (2 * FD_EPS))
    return np.array(out)


def keras_loss(variables, x, onehot, stop=False):
    """The same network with keras.ops on raw variables (sum / B, not ops.mean: see Limitations)."""
    w1, b1, w2, b2 = variables
    h = keras.ops.relu(keras.ops.matmul(x, w1) + b1)
    if stop:
        h = keras.ops.stop_gradient(h)
    logp = keras.ops.log_softmax(keras.ops.matmul(h, w2) + b2, axis=-1)
    return -keras.ops.sum(onehot * logp) / x.shape[0]


def _rel(a, b):
    return float(np.linalg.norm(np.ravel(a) - np.ravel(b)) / max(np.linalg.norm(np.ravel(b)), 1e-300))


def _digits(err):
    return float(-np.log10(max(err, 1e-17)))


def train(c, ctx):
    t0 = time.perf_counter()
    params, x, y = init(c.width, ctx.seed, c.batch)
    loss64, _ = numpy_loss(params, x, y)
    analytic = numpy_backprop(params, x, y)
    rng = np.random.default_rng(ctx.seed + 1)
    coords = [(k, int(i)) for k, p in enumerate(params) for i in rng.choice(p.size, min(c.fd_coords, p.size), False)]
    t_fd = time.perf_counter()
    fd = finite_differences(params, x, y, coords)
    t_fd = (time.perf_counter() - t_fd) / len(coords)
    picked = lambda grads: np.array([np.ravel(grads[k])[i] for k, i in coords])  # noqa: E731

    with backend.float64() if c.dtype == "float64" else _nothing():
        variables = [keras.Variable(p.astype(c.dtype), name=n) for p, n in zip(params, NAMES)]
        xt = keras.ops.convert_to_tensor(x.astype(c.dtype))
        onehot = keras.ops.convert_to_tensor(np.eye(10, dtype=c.dtype)[y])
        fn = lambda: keras_loss(variables, xt, onehot)  # noqa: E731
        times = []
        for _ in range(3):
            t = time.perf_counter()
            value, auto = backend.grads_of(fn, variables)
            times.append(time.perf_counter() - t)
        twice = backend.backward_twice(fn, variables)
        _, stopped = backend.grads_of(lambda: keras_loss(variables, xt, onehot, stop=True), variables)
        dtype_seen = str(keras.ops.convert_to_numpy(variables[0]).dtype)
    auto64 = [np.asarray(g, np.float64) for g in auto]
    per_var = {n: _rel(a, b) for n, a, b in zip(NAMES, auto64, analytic)}
    t_np = time.perf_counter()
    numpy_backprop(params, x, y)
    t_np = time.perf_counter() - t_np
    err = max(per_var.values())
    metrics = {
        "forward_rel_err": abs(value - loss64) / loss64, "loss": loss64,
        "rel_err_autodiff_analytic": err, "digits_autodiff_analytic": _digits(err),
        **{f"rel_err_{n}": v for n, v in per_var.items()},
        "rel_err_fd_analytic": _rel(fd, picked(analytic)), "rel_err_fd_autodiff": _rel(fd, picked(auto64)),
        "accumulates": float(backend.accumulates()),
        "twice_over_once": float(np.linalg.norm(np.concatenate([np.ravel(t) for t in twice]))
                                 / np.linalg.norm(np.concatenate([np.ravel(g) for g in auto64]))),
        "twice_rel_err_vs_2g": max(_rel(t, 2 * g) for t, g in zip(twice, auto64)),
        "stop_first_layer_none": float(sum(g is None for g in stopped[:2])),
        "stop_first_layer_max_abs": max(0.0 if g is None else float(np.abs(g).max()) for g in stopped[:2]),
        "stop_second_layer_rel_diff": max(_rel(s, a) for s, a in zip(stopped[2:], auto64[2:])),
        "autodiff_seconds": float(np.median(times)), "numpy_backprop_seconds": t_np, "fd_seconds_per_coord": t_fd,
    }
    ctx.progress.epoch(1, 1, time.perf_counter() - t0, {})
    return {"metrics": metrics, "history": {}, "status": "ok", "computed_dtype": dtype_seen,
            "grad_norms": {n: float(np.linalg.norm(g)) for n, g in zip(NAMES, auto64)},
            "data": f"{c.batch} MNIST training images drawn with seed {ctx.seed}"}


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ---------------------------------------------------------------- analysis

def _worst(runs, arm, key):
    return float(np.nanmax(runs.metric(arm, key)))


def _table(runs_by_backend):
    rows = []
    for b, runs in runs_by_backend.items():
        for arm in runs.arms():
            c = runs.config(arm)
            rows.append({
                "backend": b, "width": c["width"], "dtype": c["dtype"], "seeds": len(runs.of(arm)),
                "forward rel. err": f"{_worst(runs, arm, 'forward_rel_err'):.1e}",
                "autodiff vs analytic": f"{_worst(runs, arm, 'rel_err_autodiff_analytic'):.1e}",
                "FD vs analytic": f"{_worst(runs, arm, 'rel_err_fd_analytic'):.1e}",
                "FD vs autodiff": f"{_worst(runs, arm, 'rel_err_fd_autodiff'):.1e}",
                "2 passes / 1 (norm)": f"{np.mean(runs.metric(arm, 'twice_over_once')):.4f}",
                "implicit accumulation": "yes" if np.all(runs.metric(arm, "accumulates") == 1) else "no",
                "stop_gradient: layer-1 grads": ("None" if _worst(runs, arm, "stop_first_layer_none") == 2 else
                                                 f"zeros (max {_worst(runs, arm, 'stop_first_layer_max_abs'):.0e})"),
                "stop_gradient: layer-2 change": f"{_worst(runs, arm, 'stop_second_layer_rel_diff'):.0e}",
                "autodiff ms": f"{1e3 * np.median(runs.metric(arm, 'autodiff_seconds')):.1f}",
            })
    return pd.DataFrame(rows)


def analyze(runs, ctx):
    w = ctx.writeup
    all_runs = {ctx.backend: runs, **(ctx.others or {})}
    c0 = runs.config(runs.arms()[0])
    w.setup("network", "784-W-10, ReLU, softmax cross-entropy, raw keras.Variable weights (no layers); "
                       f"widths {sorted({runs.config(a)['width'] for a in runs.arms()})}")
    w.setup("data", f"{c0['batch']} MNIST training images per seed (drawn by the seed), pixels in [0, 1]")
    w.setup("references", f"hand-derived backprop and central differences (eps {FD_EPS:g}, {c0['fd_coords']} "
                          "sampled coordinates per variable), both NumPy float64")
    w.table(_table(all_runs), "Relative errors (worst over seeds; ||a - b|| / ||b||, worst variable), accumulation "
            "and stop_gradient, per backend", floatfmt="")
    fig, ax = plots.panels(1, width=7)
    labels, auto, fdv = [], [], []
    for b, r in all_runs.items():
        for arm in r.arms():
            labels.append(f"{b}\n{arm}")
            auto.append(_worst(r, arm, "rel_err_autodiff_analytic"))
            fdv.append(_worst(r, arm, "rel_err_fd_analytic"))
    pos = np.arange(len(labels))
    ax[0].bar(pos - 0.2, np.maximum(auto, 1e-17), 0.4, label="autodiff vs analytic")
    ax[0].bar(pos + 0.2, np.maximum(fdv, 1e-17), 0.4, label="finite differences vs analytic")
    ax[0].set_yscale("log")
    ax[0].set_xticks(pos, labels, fontsize=6, rotation=90)
    ax[0].set_ylabel("relative error (worst seed)")
    ax[0].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    w.figure(fig, "errors", "Relative gradient error per backend and arm (log scale; 1e-17 marks exact agreement)")

    verdicts = {}
    for b, r in all_runs.items():
        for arm in r.arms():
            dtype = r.config(arm)["dtype"]
            e = _worst(r, arm, "rel_err_autodiff_analytic")
            verdicts[b, arm] = e
            computed = {rec["computed_dtype"] for rec in r.of(arm)}
            if dtype == "float64" and e > TOL["float64"]:
                w.finding(f"{b} {arm}: variables are {', '.join(sorted(computed))}, yet autodiff differs from the "
                          f"float64 analytic gradient by {e:.1e}, above the float64 rounding level ({TOL['float64']:g}): "
                          "part of the computation ran in lower precision.")
    fd = max(_worst(r, a, "rel_err_fd_analytic") for r in all_runs.values() for a in r.arms())
    loss = max(float(np.max(r.metric(a, "loss"))) for r in all_runs.values() for a in r.arms())
    w.finding(f"Central differences confirm the hand-derived backprop to {fd:.1e} relative error (worst over all "
              f"runs); float64 rounding alone allows about 2.2e-16 x loss / eps = {2.2e-16 * loss / FD_EPS:.0e} "
              f"absolute error per coordinate at eps = {FD_EPS:g}.")
    for dtype in ("float32", "float64"):
        errs = {k: v for k, v in verdicts.items() if k[1].endswith(dtype)}
        if errs:
            worst = max(errs, key=errs.get)
            w.finding(f"{dtype}: autodiff matches analytic backprop to at most {errs[worst]:.1e} relative error "
                      f"(worst: {worst[0]} {worst[1]}); backends: "
                      + ", ".join(f"{b} {a} {e:.1e}" for (b, a), e in sorted(errs.items())) + ".")
    for b, r in all_runs.items():
        ratio = np.concatenate([r.metric(a, "twice_over_once") for a in r.arms()])
        dev = max(_worst(r, a, "twice_rel_err_vs_2g") for a in r.arms())
        how = ("`.grad` after two `backward()` calls (implicit accumulation)" if np.all(
            np.concatenate([r.metric(a, "accumulates") for a in r.arms()]) == 1) else
               "the explicit sum of two functional gradient calls (no implicit accumulation)")
        w.finding(f"{b}: {how} is {ratio.mean():.4f} times the single gradient (max relative deviation from 2g: "
                  f"{dev:.1e}).")
        none = max(_worst(r, a, "stop_first_layer_none") for a in r.arms())
        w.finding(f"{b}: with stop_gradient on the hidden activation, the first-layer gradients are "
                  + ("`None` (disconnected)" if none == 2 else
                     f"zeros (max |g| {max(_worst(r, a, 'stop_first_layer_max_abs') for a in r.arms()):.0e})")
                  + f" and the second-layer gradients change by at most "
                  f"{max(_worst(r, a, 'stop_second_layer_rel_diff') for a in r.arms()):.0e} (relative).")
    worst = max(verdicts.values())
    fd_ok = fd < 1e-6
    w.claim("autograd gradients match manual backpropagation",
            findings.verdict(worst < 1e-4 and fd_ok, worst > 1e-2 or fd > 1e-2),
            f"worst relative error autodiff vs analytic over {len(verdicts)} backend-arm pairs and all seeds: "
            f"{worst:.1e}; finite differences vs analytic: {fd:.1e}. Agrees if every autodiff gradient is within "
            "1e-4 (float32 rounding) of analytic backprop and the differences confirm the backprop to 1e-6; "
            "disagrees if any error exceeds 1e-2. The check is deterministic: each seed is a new network and "
            "batch, not a noisy repeat, so the worst case is the statistic.")
    w.limitation("One batch and one point in weight space per seed: a gradient check, not training. ReLU's kink "
                 "is not differentiable; a central difference straddles it only if a pre-activation lies within "
                 f"{FD_EPS:g} of 0, which did not visibly happen (finite differences agree to {fd:.1e}).")
    w.limitation("The loss is written as sum / batch, not keras.ops.mean: in Keras 3.15.1 type promotion maps "
                 "float64 to float32 on JAX and PyTorch (keras/src/backend/common/dtypes.py, BIT64_TO_BIT32_DTYPE), "
                 "so ops.mean (JAX, PyTorch) and ops.matmul (PyTorch) compute float64 inputs in float32.")
    w.limitation("This task trains no epochs, so the cross-backend table has no s/epoch columns; the per-call "
                 "autodiff time is the 'autodiff ms' column above, measured on a CPU shared with other jobs.")
    w.limitation("Finite differences cover a random sample of coordinates per variable, not every weight.")
