"""Real scanned pages with ALTO ground truth, read by the running server and by Tesseract, scored alike.

`python -m benchmarks.real_pages` (see `benchmarks/README.md`): line detection, line and page CER/WER,
spaces, accents and the CJK characters in the output, per data set of `../shared/ocr-train`.
"""
