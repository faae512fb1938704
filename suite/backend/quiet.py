"""Import Keras without TensorFlow's import-time native log lines.

Since TensorFlow 2.19 its C++ start-up notices (the oneDNN note, absl's "All log messages before
absl::InitializeLog()" line, CUDA stub messages on a machine without a GPU) ignore
`TF_CPP_MIN_LOG_LEVEL` (tensorflow/tensorflow#100442). They are written straight to file
descriptor 2, so `import_keras` captures that descriptor while Keras (and TensorFlow) load, drops
the lines it knows as start-up noise and writes every other line back to stderr.
"""

import os
import re
import sys
import tempfile

NOISE = re.compile(r"All log messages before absl::InitializeLog|oneDNN custom operations are on|cudart_stub\.cc"
                   r"|Unable to register cu(DNN|FFT|BLAS) factory|computation_placer\.cc|TF-TRT Warning"
                   r"|cpu_feature_guard\.cc|rebuild TensorFlow with the appropriate compiler flags")


def import_keras():
    """`import keras` (loading its backend) with TensorFlow's start-up noise left out."""
    if "keras" in sys.modules or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        import keras  # noqa: F401  (JAX and torch print nothing at import)

        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines() if not NOISE.search(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr, flush=True)
