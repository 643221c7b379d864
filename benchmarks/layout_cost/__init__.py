"""What the layout model and the page structure add to Stage 1's time per page, measured side by side.
`python -m benchmarks.layout_cost` (see `benchmarks/README.md`)."""
