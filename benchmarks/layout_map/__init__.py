"""Block detection on synthetic pages whose typed blocks are known: AP@0.5 per class of the page structure.
`python -m benchmarks.layout_map` (see `benchmarks/README.md`)."""
