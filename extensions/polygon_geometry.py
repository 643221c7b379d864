"""Polygon geometry, defined once for masks, batches, OCR, annotations and training: the ring type, the repair
rule, the `min_area` measure, boxes and reading order. Pure functions of coordinates in full-image pixels."""

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

Point = tuple[float, float]
Ring = tuple[Point, ...]
"""A polygon's corners in order, not closed (the first point is not repeated at the end)."""
Bounds = tuple[float, float, float, float]
"""`x0, y0, x1, y1` of an axis-aligned box."""
Item = TypeVar("Item")
Number = TypeVar("Number", int, float)


def repaired(rings: Iterable[Sequence[Point]]) -> BaseGeometry:
    """The union of the rings (points or (n, 2) arrays) as a valid (multi)polygon, what a mask cuts: shapely's
    make_valid repairs self-intersections (a bow-tie becomes two triangles), leftover lines are dropped."""
    outlined = [ring for ring in rings if len({tuple(point) for point in ring}) >= 3]
    geometry = unary_union([shapely.make_valid(Polygon(ring)) for ring in outlined])
    parts = getattr(geometry, "geoms", [geometry])
    polygons = [part for part in parts if part.geom_type in ("Polygon", "MultiPolygon")]
    return unary_union(polygons) if polygons else Polygon()


def clipped(geometry: BaseGeometry, width: int, height: int) -> BaseGeometry:
    """The part of a geometry inside a `width` x `height` image."""
    return geometry.intersection(box(0, 0, width, height))


def masked_area(rings: Iterable[Sequence[Point]], width: int, height: int) -> float:
    """The one `min_area` measure: square pixels of the repaired polygon inside the image, which is what its
    mask cuts and what `/mask/batch` reports as `polygon_area`."""
    return float(clipped(repaired(rings), width, height).area)


def largest_outline(geometry: BaseGeometry) -> Polygon | None:
    """The exterior of the geometry's largest polygon (its holes left out), or None when it has no area."""
    polygons = [part for part in shapely.get_parts(geometry) if isinstance(part, Polygon) and part.area > 0]
    return Polygon(max(polygons, key=lambda part: part.area).exterior) if polygons else None


def bounds(points: Iterable[tuple[Number, Number]]) -> tuple[Number, Number, Number, Number]:
    """`x0, y0, x1, y1` of the box around the points (whole numbers for whole-pixel points)."""
    xs, ys = zip(*points, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def pixel_box(edges: Bounds) -> tuple[int, int, int, int]:
    """`x, y, w, h` of the whole pixels a box touches, starting at 0 at the least, at least 1 pixel a side."""
    x0, y0 = max(0, math.floor(edges[0])), max(0, math.floor(edges[1]))
    return x0, y0, max(1, math.ceil(edges[2]) - x0), max(1, math.ceil(edges[3]) - y0)


def reading_order(items: Iterable[Item], bounds_of: Callable[[Item], Bounds]) -> list[Item]:
    """Rows top to bottom (an item joins a row when its vertical centre lies within the row's first item's
    box), each row left to right: the order of the detector's lines and of their region ids."""
    rows: list[list[tuple[Bounds, Item]]] = []
    for edges, item in sorted(((bounds_of(item), item) for item in items), key=lambda pair: pair[0][1]):
        first = rows[-1][0][0] if rows else None
        if first and first[1] <= (edges[1] + edges[3]) / 2 <= first[3]:
            rows[-1].append((edges, item))
        else:
            rows.append([(edges, item)])
    return [item for row in rows for _, item in sorted(row, key=lambda pair: pair[0][0])]
