"""Block AP@0.5 per class of the server's page structure on synthetic pages whose typed blocks are known.

    python -m benchmarks.layout_map [--pages 20] [--seed 1]
        [--layout-manifest ocr_onnx/manifests/layout_cdla.json]

Each page of `models.synthetic` (one or two columns, header, title, headings, paragraphs, captions, marginal
notes, figures) is read in process as the server reads it: the line detector at 1600 px, the layout model
when a manifest is given, `page_structure`. A true block's class is its structure type (`heading` counts as
`title`, a marginal note as `paragraph`), a figure is `figure`; a found non-text block (`graphic`) counts
as `figure`. AP is PASCAL VOC's at IoU 0.5 of the blocks' boxes (`average_precision.py`), and `block` is
every block whatever its class.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from extensions.ocr_settings import OCRSettings
from extensions.page_structure import blocks_of, page_structure
from extensions.page_tiling import detect_tiled
from extensions.polygon_geometry import bounds
from models.synthetic.pages import A4_150_DPI, SyntheticPage, render_page
from ocr_onnx import default_registry
from ocr_onnx.onnx_settings import OnnxSettings

from .average_precision import TypedBox, average_precision

TRUTH_CLASS = {"heading": "title", "marginalia": "paragraph"}
FOUND_CLASS = {"graphic": "figure"}
CLASSES = ("paragraph", "title", "caption", "header", "figure", "block")


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layout-manifest", type=Path, help="a layout model (default: none)")
    return parser.parse_args(argv)


def truth_of(number: int, page: SyntheticPage) -> list[TypedBox]:
    """The page's true blocks and figures."""
    blocks = [
        TypedBox(number, bounds(r.polygon), TRUTH_CLASS.get(kind, kind))
        for r in page.regions
        if r.region_type == "TextRegion"
        for kind in [dict(r.properties).get("structure.type", "paragraph")]
    ]
    return blocks + [TypedBox(number, figure, "figure") for figure in page.layout.figures]


def found_on(number: int, image: np.ndarray, detector: Any, layout: Any) -> list[TypedBox]:
    """The blocks the server's Stage 1 finds on the page, read at the server's detection side."""
    factor = min(1.0, OCRSettings().detection_side / max(image.shape[:2]))
    small = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    boxes = layout.detect(small) if layout is not None else []
    structure = page_structure(detect_tiled(detector, small, detector.manifest.input_size), boxes)
    return [
        TypedBox(
            number,
            (x0 / factor, y0 / factor, x1 / factor, y1 / factor),
            FOUND_CLASS.get(block.region_type, block.region_type),
            block.confidence or 0.0,
        )
        for block in blocks_of(structure)
        for x0, y0, x1, y1 in [bounds(block.polygon)]
    ]


def main(argv: Sequence[str] | None = None) -> None:
    """Render, read, score and print the table."""
    args = arguments(argv)
    registry = default_registry(OnnxSettings(layout_manifest=args.layout_manifest))
    detector, layout = registry.detector(), registry.layout()
    truth, found = [], []
    for number in range(args.pages):
        page = render_page(A4_150_DPI, args.seed * 1000 + number)
        truth += truth_of(number, page)
        found += found_on(number, page.image, detector, layout)
    anyclass = [TypedBox(t.page, t.box, "block", t.score) for t in truth]
    found_any = [TypedBox(f.page, f.box, "block", f.score) for f in found]
    model = args.layout_manifest.name if args.layout_manifest else "none (geometry)"
    print(f"{args.pages} synthetic pages (seed {args.seed}), layout model: {model}\n")
    print("| class | true blocks | found | AP@0.5 |\n|---|---:|---:|---:|")
    for kind in CLASSES:
        pairs = (anyclass, found_any) if kind == "block" else (truth, found)
        ap = average_precision(*pairs, kind)
        counts = [sum(box.kind == kind for box in boxes) for boxes in pairs]
        print(f"| {kind} | {counts[0]} | {counts[1]} | {'n/a' if ap is None else f'{ap:.3f}'} |")


if __name__ == "__main__":
    main()
