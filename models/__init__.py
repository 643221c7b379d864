"""Training, synthetic data, dataset building and evaluation for the Stage 1 and Stage 2 OCR models."""
