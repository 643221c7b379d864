"""Masked versus rectangle crops: what the mask costs (`timing`) and what it does to OCR (`ocr_ab`)."""
