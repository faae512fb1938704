"""Progress lines for long runs: which arm and seed, which epoch, the metrics, and an ETA."""

import sys
import time

import keras


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Counts epochs done against epochs planned, over a whole study, and prints one line per epoch.

    Args:
        label: prefix of every line, e.g. `"task07 jax quick"`.
        planned_epochs: total epochs the study will run (an upper bound with early stopping).
        stream: where lines go. Defaults to `sys.stderr`.
    """

    def __init__(self, label, planned_epochs, stream=None):
        self.label, self.planned, self.stream = label, planned_epochs, stream or sys.stderr
        self.done, self.seconds = 0, 0.0
        self.current = ""
        self.final = False  # False while later stages are not planned yet (ETA covers this stage)

    def start(self, description):
        self.current = description

    def epoch(self, epoch, epochs, seconds, logs):
        self.done += 1
        self.seconds += seconds
        eta = self.seconds / self.done * max(self.planned - self.done, 0)  # done >= 1 here
        metrics = " ".join(f"{k} {v:.4f}" for k, v in logs.items() if k in ("loss", "val_loss", "val_accuracy"))
        scope = "ETA" if self.final else "stage ETA"
        print(f"[{self.label}] {self.current} | epoch {epoch}/{epochs} {metrics} | {seconds:.1f}s | "
              f"{scope} {_duration(eta)}", file=self.stream, flush=True)

    def plan(self, epochs, final=True):
        """Add `epochs` more planned epochs (a later stage, once its arms are known)."""
        self.planned += epochs
        self.final = final

    def skip(self, epochs):
        """Account for a run that was already stored (resume)."""
        self.planned = max(self.planned - epochs, 0)

    def line(self, text):
        print(f"[{self.label}] {text}", file=self.stream, flush=True)


class ProgressCallback(keras.callbacks.Callback):
    """Reports each finished epoch, with its wall time, to a `Progress`."""

    def __init__(self, progress):
        super().__init__()
        self.progress = progress

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs", 0)

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.progress.epoch(epoch + 1, self.epochs, time.perf_counter() - self.t0, logs or {})
