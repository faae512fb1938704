"""Training throughput per backend: plain Keras, the suite's settings, with probes, and a hand loop.

For each backend (one process each), samples per second of training (no validation) for:
  (a) plain `model.fit` as a user would write it (Keras defaults),
  (b) the suite's per-backend compile settings (`suite.training.fit.compile_fast`: steps_per_execution),
  (c) (b) with all four probes at their default frequency (once per epoch, 512-image probe set),
  (d) a hand-written loop in the backend itself (jax.jit step with a hand-coded Adam, a plain
      torch loop with torch.optim.Adam, a tf.function step with a hand-coded Adam): the floor
      for one dispatch per step, which is what Keras's JAX and torch trainers do,
  (e) JAX only: (d) with 64 steps per call in a `lax.scan`, the floor for fused steps.
Models: the MNIST MLP 784-128(ReLU)-10 (batch 32 and 128) and, for (a)/(b), the seed CIFAR CNN
(batch 128, on a subset). Each timing is the median of `--repeats` timed epochs after one
warm-up epoch (compilation), so the ratios b/a, c/b and b/d come from one run on one machine.

    SUITE_DATA_DIR=../shared/data python benchmarks/throughput.py          # ~10 min on 2 cores
    python benchmarks/throughput.py --backends jax --repeats 1             # a quick look

Writes benchmarks/RESULTS.md. Not a test: the numbers depend on the machine and its load.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("tensorflow", "jax", "torch")
SCAN_CHUNK = 64  # steps per call of JAX's scanned hand loop (e), as the suite's steps_per_execution


WHERE_THE_TIME_GOES = [
    "Where the time goes (from profiles and trials made while choosing the settings; the numbers for them are in "
    "the notes of the issue that asked for this benchmark):",
    "",
    "- TensorFlow: `steps_per_execution` runs the chunk's steps in one graph call, so (b) nears the compiled hand "
    "loop (d).",
    "- JAX: Keras's JAX trainer dispatches one compiled step per batch from Python (steps_per_execution only "
    "skips the per-step callback work), as the hand loop (d) does; (e) runs 64 steps per call in a `lax.scan`. "
    "The suite does the same inside Keras for dense models on a CPU (`suite.backend.fuse_train_steps`, same "
    "weights bit for bit), so (b) passes (d). A scan compiles again for each new chunk length, so models "
    "compiled alike share their compiled scans; convolutional models keep Keras's loop, because XLA:CPU runs "
    "convolutions inside a loop many times slower (jax-ml/jax#12868).",
    "- PyTorch: Keras on torch runs eagerly; a profile of `fit` shows most of each step in Keras's Python layer "
    "and op machinery (the functional graph walk, dtype and tensor conversion), the optimizer's update and the "
    "data iterator, not in torch's kernels; hence (d), a plain torch loop, is ~3x faster. Keras does not support "
    "steps_per_execution on torch; `jit_compile=True` (torch.compile) speeds steady steps up but compiles for "
    "tens of seconds per model, longer than most of the suite's runs.",
]


# ------------------------------------------------------------------ hand-written loops (d)

def _hand_loop(backend, x, y, batch, epochs, seed=0, scan_chunk=None):
    """Train the 784-128-10 MLP with Adam(1e-3) in the backend's own idiom; returns seconds per epoch.

    On JAX, `scan_chunk` runs that many steps per call in a `lax.scan` (the steps of a last,
    shorter chunk are skipped, so count `steps // scan_chunk * scan_chunk * batch` samples).
    """
    rng = np.random.default_rng(seed)
    x = x.reshape(len(x), -1)
    w1 = (rng.uniform(-1, 1, (784, 128)) * np.sqrt(6 / (784 + 128))).astype(np.float32)
    w2 = (rng.uniform(-1, 1, (128, 10)) * np.sqrt(6 / (128 + 10))).astype(np.float32)
    params = [w1, np.zeros(128, np.float32), w2, np.zeros(10, np.float32)]
    steps = len(x) // batch
    order = [rng.permutation(len(x)) for _ in range(epochs)]
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def loss_fn(p, xb, yb):
            logits = jax.nn.relu(xb @ p[0] + p[1]) @ p[2] + p[3]
            return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, yb[:, None], 1)[:, 0])

        def update(state, sl, xd, yd):
            p, m, v, t = state
            t = t + 1
            g = jax.grad(loss_fn)(p, xd[sl], yd[sl])
            m = [0.9 * mi + 0.1 * gi for mi, gi in zip(m, g)]
            v = [0.999 * vi + 0.001 * gi * gi for vi, gi in zip(v, g)]
            lr = 1e-3 * jnp.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            return [pi - lr * mi / (jnp.sqrt(vi) + 1e-7) for pi, mi, vi in zip(p, m, v)], m, v, t

        step = jax.jit(update)  # one dispatch per step, as Keras's JAX trainer
        scan = jax.jit(lambda state, sls, xd, yd: jax.lax.scan(  # one dispatch per chunk of steps
            lambda st, sl: (update(st, sl, xd, yd), None), state, sls)[0])
        p = [jnp.asarray(a) for a in params]
        state = (p, [jnp.zeros_like(a) for a in p], [jnp.zeros_like(a) for a in p], jnp.float32(0))
        xd, yd = jnp.asarray(x), jnp.asarray(y)
        times = []
        for idx in order:
            if scan_chunk:
                chunks = [jnp.asarray(idx[s * batch:(s + scan_chunk) * batch].reshape(-1, batch))
                          for s in range(0, steps - scan_chunk + 1, scan_chunk)]
                run = lambda st, sls: scan(st, sls, xd, yd)  # noqa: E731
            else:
                chunks = [jnp.asarray(idx[s * batch:(s + 1) * batch]) for s in range(steps)]
                run = lambda st, sl: step(st, sl, xd, yd)  # noqa: E731
            t0 = time.perf_counter()
            for chunk in chunks:
                state = run(state, chunk)
            jax.block_until_ready(state)
            times.append(time.perf_counter() - t0)
        return times
    if backend == "torch":
        import torch

        model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
        with torch.no_grad():
            for layer, w, b in ((model[0], params[0], params[1]), (model[2], params[2], params[3])):
                layer.weight.copy_(torch.from_numpy(w.T.copy()))
                layer.bias.copy_(torch.from_numpy(b))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
        times = []
        for idx in order:
            idx = torch.from_numpy(idx)
            t0 = time.perf_counter()
            for s in range(steps):
                sl = idx[s * batch:(s + 1) * batch]
                opt.zero_grad(set_to_none=True)
                loss = torch.nn.functional.cross_entropy(model(xt[sl]), yt[sl])
                loss.backward()
                opt.step()
            times.append(time.perf_counter() - t0)
        return times
    import tensorflow as tf

    p = [tf.Variable(a) for a in params]
    m = [tf.Variable(tf.zeros_like(a)) for a in params]
    v = [tf.Variable(tf.zeros_like(a)) for a in params]
    t = tf.Variable(0.0)

    @tf.function(jit_compile=True)
    def step(xt, yt, sl):
        xb, yb = tf.gather(xt, sl), tf.gather(yt, sl)
        with tf.GradientTape() as tape:
            logits = tf.nn.relu(xb @ p[0] + p[1]) @ p[2] + p[3]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits))
        g = tape.gradient(loss, p)
        t.assign_add(1.0)
        lr = 1e-3 * tf.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        for pi, mi, vi, gi in zip(p, m, v, g):
            mi.assign(0.9 * mi + 0.1 * gi)
            vi.assign(0.999 * vi + 0.001 * gi * gi)
            pi.assign_sub(lr * mi / (tf.sqrt(vi) + 1e-7))

    xt, yt = tf.constant(x), tf.constant(y.astype(np.int64))
    times = []
    for idx in order:
        batches = [tf.constant(idx[s * batch:(s + 1) * batch]) for s in range(steps)]
        t0 = time.perf_counter()
        for sl in batches:
            step(xt, yt, sl)
        times.append(time.perf_counter() - t0)
    return times


# ------------------------------------------------------------------ Keras modes (a)-(c)

def _keras_epochs(model_fn, x, y, batch, epochs, suite_settings, callbacks_fn=None):
    import keras

    from suite.training.fit import compile_fast

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = model_fn()
    if suite_settings:
        compile_fast(model, keras.optimizers.Adam(1e-3), metrics=())
    else:
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    callbacks = [*(callbacks_fn() if callbacks_fn else []), Timer()]  # last: its epoch includes the probes
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=callbacks)
    return times


def worker(repeats, mlp_size, cnn_size):
    sys.path.insert(0, str(ROOT))
    import keras

    from suite.study import environment
    from suite.data import mnist
    from suite.models.mlp import mlp
    from suite.probes import ActivationProbe, DriftProbe, GradientProbe, WeightProbe

    backend = keras.backend.backend()
    data = mnist.splits(mlp_size)
    x, y = data.x_train, data.y_train
    xp, yp = data.x_val[:512], data.y_val[:512]
    probes = lambda: [GradientProbe(xp, yp), WeightProbe(), DriftProbe(xp), ActivationProbe(xp)]  # noqa: E731
    epochs = repeats + 1  # the first epoch compiles
    rows = []

    def record(model, batch, mode, times, n):
        steady = sorted(times[1:])[len(times[1:]) // 2]
        rows.append({"model": model, "batch": batch, "mode": mode, "samples_per_s": n / steady})
        print(f"{backend} {model} b{batch} {mode}: {n / steady:,.0f} samples/s", file=sys.stderr, flush=True)

    for batch in (32, 128):
        record("mlp", batch, "a", _keras_epochs(mlp, x, y, batch, epochs, False), len(x))
        record("mlp", batch, "b", _keras_epochs(mlp, x, y, batch, epochs, True), len(x))
        record("mlp", batch, "c", _keras_epochs(mlp, x, y, batch, epochs, True, probes), len(x))
        record("mlp", batch, "d", _hand_loop(backend, x, y, batch, epochs), len(x) // batch * batch)
        if backend == "jax":
            chunked = len(x) // batch // SCAN_CHUNK * SCAN_CHUNK * batch
            record("mlp", batch, "e", _hand_loop(backend, x, y, batch, epochs, scan_chunk=SCAN_CHUNK), chunked)
    if cnn_size:
        from suite.data import cifar10
        from suite.models.cnn import cifar_cnn

        xc, yc = cifar10.load_raw()[:2]
        xc, yc = xc[:cnn_size].astype(np.float32) / 255, yc[:cnn_size]
        record("cnn", 128, "a", _keras_epochs(cifar_cnn, xc, yc, 128, epochs, False), len(xc))
        record("cnn", 128, "b", _keras_epochs(cifar_cnn, xc, yc, 128, epochs, True), len(xc))
    print("RESULT " + json.dumps({"backend": backend, "env": environment.describe(), "rows": rows}), flush=True)


def _table(results):
    lines = ["| backend | model | batch | (a) plain fit | (b) suite | (c) suite + probes | (d) hand loop | "
             "(e) scanned hand loop | b/a | c/b | b/d | b/e |", "|---" * 12 + "|"]
    for res in results:
        by = {}
        for r in res["rows"]:
            by.setdefault((r["model"], r["batch"]), {})[r["mode"]] = r["samples_per_s"]
        for (model, batch), m in by.items():
            cell = lambda k: f"{m[k]:,.0f}" if k in m else "-"  # noqa: E731
            ratio = lambda p, q, inv=False: (f"{(m[q] / m[p]) if inv else (m[p] / m[q]):.2f}"  # noqa: E731
                                             if p in m and q in m else "-")
            # b/a and b/d are speed-ups (throughput ratios); c/b is a slow-down (time ratio).
            lines.append(f"| {res['backend']} | {model} | {batch} | {cell('a')} | {cell('b')} | {cell('c')} | "
                         f"{cell('d')} | {cell('e')} | {ratio('b', 'a')} | {ratio('c', 'b', inv=True)} | "
                         f"{ratio('b', 'd')} | {ratio('b', 'e')} |")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--backends", nargs="+", default=list(BACKENDS))
    p.add_argument("--repeats", type=int, default=2, help="timed epochs after the warm-up epoch")
    p.add_argument("--mlp-size", type=int, default=20000, help="MNIST training images")
    p.add_argument("--cnn-size", type=int, default=2048, help="CIFAR-10 training images (0: skip)")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.repeats, args.mlp_size, args.cnn_size)
    started = datetime.now(timezone.utc).isoformat(timespec="minutes")
    results = []
    for b in args.backends:
        proc = subprocess.run([sys.executable, __file__, "--worker", "--repeats", str(args.repeats),
                               "--mlp-size", str(args.mlp_size), "--cnn-size", str(args.cnn_size)],
                              env={**os.environ, "KERAS_BACKEND": b}, capture_output=True, text=True)
        line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")]
        if not line:
            sys.exit(f"{b} failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(line[-1][7:]))
    env = results[0]["env"]
    text = ["# Training throughput", "",
            f"*Generated by `python benchmarks/throughput.py --repeats {args.repeats} --mlp-size {args.mlp_size} "
            f"--cnn-size {args.cnn_size}` on {started}; not a test.*", "",
            f"Machine: {env['cpu']}; accelerator: {env['device']}; Python {env['python']}, Keras {env['keras']}; "
            + ", ".join(f"{r['backend']} {r['env']['backend_version']}" for r in results)
            + "; thread settings: " + (", ".join(f"{k}={v}" for k, v in env.get("thread_env", {}).items())
                                       or "library defaults") + ".", "",
            "Samples per second of training (median of the timed epochs after a warm-up epoch; no validation). "
            "b/a and b/d: speed-up of the suite's settings over plain `fit` and over the hand-written loop "
            "(b/d < 1 means the hand loop is faster); c/b: wall-time cost of the probes (1.10 = 10% slower).", "",
            *_table(results), "", *WHERE_THE_TIME_GOES, ""]
    (ROOT / "benchmarks" / "RESULTS.md").write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
