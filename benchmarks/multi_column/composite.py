"""Multi-column pages made of real ones: each page's text area (the box around its ground-truth lines, with a
margin) set beside the next, a narrow gutter between, and the true lines column by column."""

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pyvips

from benchmarks.real_pages.lines import TruthLine
from extensions.polygon_geometry import bounds

MARGIN = 0.01
"""White kept around a page's text area, as a share of the page's width."""
GUTTER = 0.03
"""The gap between two columns, as a share of the first column's width (about one to two ems)."""


def compose(
    images: Sequence[pyvips.Image], truths: Sequence[list[TruthLine]]
) -> tuple[np.ndarray, list[TruthLine]]:
    """One page of `len(images)` columns, top-aligned on white, and its true lines in reading order."""
    crops, lines, left = [], [], 0
    for number, (image, truth) in enumerate(zip(images, truths, strict=True)):
        x0, y0, x1, y1 = bounds([point for line in truth for point in line.polygon])
        margin = MARGIN * image.width
        x0, y0 = max(0, int(x0 - margin)), max(0, int(y0 - margin))
        x1, y1 = min(image.width, int(x1 + margin)), min(image.height, int(y1 + margin))
        crop = image.crop(x0, y0, x1 - x0, y1 - y0).colourspace("srgb")[0:3]
        crops.append(
            (
                left,
                np.ndarray(buffer=crop.write_to_memory(), dtype=np.uint8, shape=(crop.height, crop.width, 3)),
            )
        )
        shift = (left - x0, -y0)
        lines += [_moved(line, f"c{number + 1}-{line.id}", shift) for line in truth]
        left += crop.width + int(GUTTER * crop.width)
    height = max(pixels.shape[0] for _, pixels in crops)
    page = np.full((height, max(x + pixels.shape[1] for x, pixels in crops), 3), 255, np.uint8)
    for x, pixels in crops:
        page[: pixels.shape[0], x : x + pixels.shape[1]] = pixels
    return page, lines


def _moved(line: TruthLine, identifier: str, shift: tuple[float, float]) -> TruthLine:
    dx, dy = shift
    return replace(
        line,
        id=identifier,
        polygon=tuple((x + dx, y + dy) for x, y in line.polygon),
        baseline=tuple((x + dx, y + dy) for x, y in line.baseline),
    )
