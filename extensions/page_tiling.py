"""Stage 1 on a page larger than the detector's input: read tile by tile at the page's own resolution, and
the pieces of a line that neighbouring tiles found joined again, in reading order."""

import itertools
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from shapely.geometry import Polygon
from shapely.ops import unary_union

from .line_joining import overlapping_groups
from .polygon_geometry import bounds, reading_order

TILE_OVERLAP = 0.25
"""Share of a detection tile that its neighbour covers too: more than a line is tall, so each line lies whole
in some tile, and the pieces of a line cut by a tile's edge overlap."""


def detect_tiled(detector: Any, page: np.ndarray, tile: int) -> list[Any]:
    """All the detector's regions of `page`, in reading order. A page larger than the detector's input (`tile`
    pixels a side) is read tile by tile at its own resolution (shrunk whole, lines a few pixels tall fall
    apart into words); the pieces of one line that neighbouring tiles found are joined."""
    height, width = page.shape[:2]
    if max(height, width) <= tile:
        return detector.detect(page, min_confidence=0.0, min_area=0.0)
    pieces = []
    tiles = itertools.product(tile_spans(height, tile), tile_spans(width, tile))
    for number, ((top, tile_height), (left, tile_width)) in enumerate(tiles):
        window = page[top : top + tile_height, left : left + tile_width]
        for found in detector.detect(window, min_confidence=0.0, min_area=0.0):
            moved = tuple((x + left, y + top) for x, y in found.polygon)
            pieces.append((number, replace(found, polygon=moved)))
    lines = [joined(group) for group in _same_lines(pieces)]
    return reading_order(lines, lambda found: bounds(found.polygon))


def tile_spans(length: int, tile: int) -> list[tuple[int, int]]:
    """Offsets and lengths of the fewest equal tiles (at most `tile` long) covering `length`, evenly spread,
    neighbours overlapping by at least `TILE_OVERLAP` of `tile`."""
    if length <= tile:
        return [(0, length)]
    overlap = round(tile * TILE_OVERLAP)
    count = math.ceil((length - overlap) / (tile - overlap))
    size = min(tile, math.ceil((length + (count - 1) * overlap) / count))
    return [(round(index * (length - size) / (count - 1)), size) for index in range(count)]


def _same_lines(pieces: Sequence[tuple[int, Any]]) -> list[list[Any]]:
    """Pieces grouped by line: two pieces from different tiles are one line when their boxes overlap across
    and share more than half the height of the shorter one."""
    boxes = [bounds(found.polygon) for _, found in pieces]

    def joins(a: int, b: int) -> bool:
        (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = boxes[a], boxes[b]  # b's top is at or below a's
        across = bx0 <= ax1 and ax0 <= bx1
        shared = min(ay1, by1) - by0
        return pieces[a][0] != pieces[b][0] and across and shared > 0.5 * min(ay1 - ay0, by1 - by0)

    return [[pieces[index][1] for index in group] for group in overlapping_groups(boxes, joins)]


def joined(group: list[Any]) -> Any:
    """One region from the pieces of a line: their union (its hull if they do not touch), the confidence
    their area-weighted mean."""
    if len(group) == 1:
        return group[0]
    shapes = [Polygon(found.polygon) for found in group]
    union = unary_union(shapes)
    outline = union if isinstance(union, Polygon) else union.convex_hull
    areas = [shape.area for shape in shapes]
    confidence = sum(f.confidence * a for f, a in zip(group, areas, strict=True)) / max(sum(areas), 1e-9)
    polygon = tuple((round(x, 2), round(y, 2)) for x, y in outline.exterior.coords[:-1])
    return replace(group[0], polygon=polygon, confidence=round(confidence, 4))
