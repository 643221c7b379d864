"""Stage 1 on pages larger than the detector's input: tiles, and the pieces of a line joined again.

A stand-in detector that boxes the ink it is shown makes every expected region exact.
"""

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from benchmarks.ocr_metrics import box_of
from extensions.page_tiling import TILE_OVERLAP, detect_tiled, tile_spans

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Found:
    polygon: tuple[tuple[float, float], ...]
    confidence: float
    region_type: str = "line"


def runs(mask: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """Start and end of each run of True, runs less than `gap` apart joined."""
    found: list[tuple[int, int]] = []
    for index in np.flatnonzero(mask):
        if found and index - found[-1][1] < gap:
            found[-1] = (found[-1][0], int(index) + 1)
        else:
            found.append((int(index), int(index) + 1))
    return found


class InkBoxes:
    """Each band of inked rows, split where at least `gap` columns are blank, is one box."""

    def __init__(self, gap: int = 10) -> None:
        self.gap = gap
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: np.ndarray, min_confidence: float = 0.5, min_area: float = 100.0) -> list[Found]:
        self.shapes.append(image.shape)
        ink = image.min(axis=2) < 128
        found = []
        for y0, y1 in runs(ink.any(axis=1), 1):
            for x0, x1 in runs(ink[y0:y1].any(axis=0), self.gap):
                confidence = 0.8 if x0 == 0 else 0.9  # lower for pieces cut by the window's left edge
                found.append(Found(((x0, y0), (x1, y0), (x1, y1), (x0, y1)), confidence))
        return found


def page_with(boxes: list[Box], width: int = 400, height: int = 260) -> np.ndarray:
    page = np.full((height, width, 3), 255, np.uint8)
    for x, y, w, h in boxes:
        page[y : y + h, x : x + w] = 0
    return page


def boxes_of(found: list[Found]) -> list[Box]:
    return [tuple(int(v) for v in box_of(f.polygon)) for f in found]  # type: ignore[misc]


@pytest.mark.parametrize(("length", "tile"), [(400, 160), (1600, 960), (1200, 960), (961, 960), (5000, 960)])
def test_tiles_cover_the_page_and_overlap(length: int, tile: int) -> None:
    spans = tile_spans(length, tile)
    assert spans[0][0] == 0 and sum(spans[-1]) == length
    assert all(size <= tile for _, size in spans)
    for (start, size), (following, _) in itertools.pairwise(spans):
        assert start + size - following >= TILE_OVERLAP * tile - 1


def test_a_page_within_the_input_is_one_call() -> None:
    detector = InkBoxes()
    lines = [(20, 20, 260, 12), (20, 50, 200, 12)]
    assert boxes_of(detect_tiled(detector, page_with(lines, 300, 200), 320)) == lines
    assert detector.shapes == [(200, 300, 3)]


def test_lines_cut_by_tile_edges_are_whole_again_in_reading_order() -> None:
    lines = [
        (10, 10, 380, 12),  # across all three columns of tiles
        (20, 40, 130, 12),  # left column, ...
        (175, 40, 205, 12),  # ... and right column, past a gutter wider than a word gap
        (30, 140, 300, 14),  # across the bottom edge of the first row of tiles
        (30, 240, 60, 12),
    ]
    detector = InkBoxes()
    found = detect_tiled(detector, page_with(lines), 160)
    assert boxes_of(found) == lines
    assert len(detector.shapes) == 3 * 2
    assert all(max(shape[:2]) <= 160 for shape in detector.shapes)
    joined = found[0]
    assert joined.region_type == "line"
    assert 0.8 < joined.confidence < 0.9  # the pieces' confidences, weighted by area
