"""`--track tensorboard`: each cell's curves and histograms as TensorBoard event files.

A cell goes to `<results>/tensorboard/<task>/<backend>/<profile>/<stage>/<arm>/seed<k>` (the
store's own layout, so arms of different stages or profiles never share a folder; point
`tensorboard --logdir` at any level). Its curves (`suite.tracking.curves`) are scalars with
the epoch as step, and the weight probe's histograms (counts on its fixed bins) are
histogram summaries. Written with TensorFlow's summary writer from the stored record, so the
same under every Keras backend. The event file's name ends in the record's finish time: a
cell already written is skipped, a retrained one replaces its older file.
"""

import re
from pathlib import Path

import numpy as np

from suite.backend import quiet
from suite.tracking import curves


class Tracker:
    """Writes one task's cells on one backend and profile as TensorBoard event files."""

    def __init__(self, results_dir, task, backend, profile):
        quiet.import_tensorflow()
        import tensorflow as tf
        from tensorboard.plugins.histogram import metadata

        self.tf, self.histogram_metadata = tf, metadata.create_summary_metadata
        self.root = Path(results_dir) / "tensorboard" / task / backend / profile

    def folder(self, record):
        return self.root / record["stage"] / record["arm"] / f"seed{record['seed']}"

    def cell(self, record):
        """Write one stored record's event file, unless this version of it is written already."""
        folder, suffix = self.folder(record), "." + (re.sub(r"\D", "", curves.version(record)) or "0")
        if record.get("status") == "failed" or any(folder.glob(f"events.out.tfevents.*{suffix}")):
            return
        for old in folder.glob("events.out.tfevents.*"):
            old.unlink()
        tf = self.tf
        writer = tf.summary.create_file_writer(str(folder), filename_suffix=suffix)
        with writer.as_default():
            for name, step, value in curves.points(record):
                tf.summary.scalar(name, value, step=step)
            for name, step, edges, counts in curves.histograms(record):
                buckets = np.stack([edges[:-1], edges[1:], counts], axis=1)  # TensorBoard's [k, 3] layout
                tf.summary.write(name, tf.constant(buckets, tf.float64), step=step,
                                 metadata=self.histogram_metadata(display_name=name, description=""))
        writer.close()

    def sync(self, store):
        """Write every stored record not written yet (e.g. cells resumed from an earlier run)."""
        for stage in store.stages():
            for record in store.load(stage):
                self.cell(record)
