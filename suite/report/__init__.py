"""From stored runs to a writeup: seed statistics, findings, tables, figures, the markdown builder."""
