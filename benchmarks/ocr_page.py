"""Time Stage 1 (line detection) and Stage 2 (recognition) of the in-process ONNX models on one page.

    python -m benchmarks.ocr_page [--rounds 3] [--threads 2] [--size 2000x3000]

The page is `document_page` (rendered serif lines of known text and ink boxes, as the samples are). The
models run on the CPU with `--threads` ONNX Runtime threads per operation, after `warm_up()`. Each line is
cut as its detected polygon's bounding box (the page is straight: no deskew needed).
Times are the median wall-clock seconds over the rounds; recall and precision count detected boxes matching
a true ink box at IoU >= 0.5, and CER compares the lines read with the true lines in reading order.
"""

import argparse
import statistics
import time

import numpy as np

from iiif_server.samples import SAMPLE_LINES, document_page
from ocr_onnx import ModelRegistry, OnnxSettings

from .ocr_metrics import box_of, cer, match_boxes


def line_crops(image: np.ndarray, polygons: list[tuple[tuple[float, float], ...]]) -> list[np.ndarray]:
    """The bounding box of each polygon, cut from `image` (clipped to it)."""
    crops = []
    for polygon in polygons:
        x, y, width, height = box_of(polygon)
        top, left = max(0, int(y)), max(0, int(x))
        crops.append(image[top : int(np.ceil(y + height)), left : int(np.ceil(x + width))])
    return crops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime intra-op threads")
    parser.add_argument("--size", default="2000x3000", help="page width x height")
    args = parser.parse_args()
    width, height = (int(side) for side in args.size.split("x"))
    page, truth = document_page(width, height, SAMPLE_LINES, seed=3)
    image = page.numpy()

    registry = ModelRegistry(OnnxSettings(intra_threads=args.threads, providers=("CPUExecutionProvider",)))
    registry.warm_up()
    detector, recognizer = registry.detector(), registry.recognizer()
    times: dict[str, list[float]] = {"detection": [], "recognition": [], "total": []}
    for _ in range(args.rounds):
        started = time.perf_counter()
        regions = detector.detect(image)
        detected = time.perf_counter()
        read = recognizer.recognize(line_crops(image, [r.polygon for r in regions]))
        finished = time.perf_counter()
        times["detection"].append(detected - started)
        times["recognition"].append(finished - detected)
        times["total"].append(finished - started)

    match = match_boxes([line.box for line in truth], [box_of(region.polygon) for region in regions])
    true_text = "\n".join(line.text for line in truth)
    read_text = "\n".join(result.text for result in read)
    print(f"page {width}x{height}, {len(truth)} lines, detector input at most {detector.max_side} px")
    print(f"ONNX Runtime {args.threads} threads, CPU, median of {args.rounds} rounds")
    print(f"found {len(regions)} lines: recall {match.recall:.3f}, precision {match.precision:.3f}")
    print(f"CER {cer(true_text, read_text):.4f}")
    for stage, seconds in times.items():
        print(f"{stage:12s} {statistics.median(seconds):6.2f} s")


if __name__ == "__main__":
    main()
