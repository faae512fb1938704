"""Import Keras without TensorFlow's import-time native log lines.

Since TensorFlow 2.19 its C++ start-up notices (the oneDNN note, absl's "All log messages before
absl::InitializeLog()" line, CUDA stub messages on a machine without a GPU) ignore
`TF_CPP_MIN_LOG_LEVEL` (tensorflow/tensorflow#100442). They are written straight to file
descriptor 2, so `import_keras` captures that descriptor while Keras (and TensorFlow) load, drops
the lines it knows as start-up noise and writes every other line back to stderr.

Under JAX and torch, Keras still loads TensorFlow whenever it is installed, lazily and so in the
middle of training (`keras.utils.set_random_seed` seeds it, serializing a model checks for its
`TensorShape`); processes that train call `import_tensorflow` first to load it under the same
filter. Listing and reporting never need it there.
"""

import contextlib
import importlib.util
import os
import re
import sys
import tempfile

NOISE = re.compile(r"All log messages before absl::InitializeLog|oneDNN custom operations are on|cudart_stub\.cc"
                   r"|Unable to register cu(DNN|FFT|BLAS) factory|computation_placer\.cc|TF-TRT Warning"
                   r"|cpu_feature_guard\.cc|rebuild TensorFlow with the appropriate compiler flags")


@contextlib.contextmanager
def _filtered_stderr():
    """File descriptor 2 captured inside the block; on exit, all but the start-up noise is written back."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines() if not NOISE.search(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)


def import_keras():
    """`import keras` (loading its backend) with TensorFlow's start-up noise left out."""
    if "keras" in sys.modules:
        return
    with _filtered_stderr():
        import keras  # noqa: F401


def import_tensorflow():
    """Load TensorFlow now, quietly, if it is installed: Keras loads it during training on every backend."""
    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    with _filtered_stderr():
        import tensorflow  # noqa: F401
