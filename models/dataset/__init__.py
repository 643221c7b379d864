"""Stage 2 datasets built from masked IIIF URLs: image + text pairs and a JSONL manifest."""
