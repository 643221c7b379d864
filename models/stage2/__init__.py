"""Stage 2: a CRNN + CTC line recogniser, and fine-tuning of a local TrOCR checkpoint."""
