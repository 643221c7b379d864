"""Real pages set side by side as columns, read by the server: what its reading order costs on multi-column
pages. `python -m benchmarks.multi_column` (see `benchmarks/README.md`)."""
