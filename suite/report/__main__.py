"""`python -m suite.report TASK`: rebuild a writeup from stored results, without training."""

from suite.cli import main

raise SystemExit(main(report_only=True))
