"""Time Stage 1's line detection, the layout model and the page structure on the same real pages.

    python -m benchmarks.layout_cost [--data ../shared/ocr-train] [--split dev] [--rounds 3] [--limit N]
        [--layout-manifest ocr_onnx/manifests/layout_cdla.json]

Each page is read once at the detection side the server uses (IIIF_OCR_DETECTION_SIDE, 1600 px); every
round times the three steps on it back to back, and the medians per page are summed. The ratio is what
the layout model (and the structure) add to Stage 1's line detection.
"""

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmarks.real_pages.__main__ import DEFAULT_DATA
from benchmarks.real_pages.pages import SPLITS, read_manifest, select_pages
from extensions.ocr_settings import OCRSettings
from extensions.page_structure import page_structure
from extensions.page_tiling import detect_tiled
from ocr_onnx import default_registry
from ocr_onnx.onnx_settings import MANIFEST_DIR, OnnxSettings


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with manifest.tsv")
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--limit", type=int, help="at most this many pages per data set")
    parser.add_argument("--layout-manifest", type=Path, default=MANIFEST_DIR / "layout_cdla.json")
    return parser.parse_args(argv)


def seconds(step: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def page_at(path: Path, side: int) -> np.ndarray:
    """The page as RGB, its longest side at most `side` (as Stage 1 reads it)."""
    image = cv2.imread(str(path))[..., ::-1]
    factor = min(1.0, side / max(image.shape[:2]))
    return np.ascontiguousarray(cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA))


def page_medians(detector: Any, layout: Any, image: np.ndarray, rounds: int) -> dict[str, float]:
    """The median seconds of each step on one page, the steps run back to back in every round."""
    pieces = detect_tiled(detector, image, detector.manifest.input_size)
    boxes = layout.detect(image)
    steps = {
        "lines": lambda: detect_tiled(detector, image, detector.manifest.input_size),
        "layout": lambda: layout.detect(image),
        "structure": lambda: page_structure(pieces, boxes),
    }
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            times[name].append(seconds(step))
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: Sequence[str] | None = None) -> None:
    """Time the steps on every page and print the sums and ratios."""
    args = arguments(argv)
    registry = default_registry(OnnxSettings(layout_manifest=args.layout_manifest))
    registry.warm_up()
    detector, layout = registry.detector(), registry.layout()
    totals = {"lines": 0.0, "layout": 0.0, "structure": 0.0}
    pages = select_pages(read_manifest(args.data), args.split, limit=args.limit)
    for page in pages:
        medians = page_medians(
            detector, layout, page_at(page.image, OCRSettings().detection_side), args.rounds
        )
        for name, value in medians.items():
            totals[name] += value
        print(
            f"{page.id:30s} " + "  ".join(f"{name} {value:6.3f} s" for name, value in medians.items()),
            flush=True,
        )
    added = (totals["layout"] + totals["structure"]) / totals["lines"]
    print(
        f"\n{len(pages)} pages, medians of {args.rounds} rounds summed: "
        f"line detection {totals['lines']:.1f} s, "
        f"layout model {totals['layout']:.1f} s, page structure {totals['structure']:.2f} s; "
        f"layout + structure add {100 * added:.0f} % to line detection "
        f"(the layout model alone {100 * totals['layout'] / totals['lines']:.0f} %)"
    )


if __name__ == "__main__":
    main()
