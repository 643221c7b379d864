"""Evaluation of Stage 1 (COCO mAP on polygons) and Stage 2 (CER, WER, exact match) with reports."""
