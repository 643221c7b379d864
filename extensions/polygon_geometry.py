"""Polygon geometry, defined once for masks, batches, OCR, annotations and training: the ring type, the repair
rule, the `min_area` measure, boxes and reading order. Pure functions of coordinates in full-image pixels."""

import math
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import TypeVar

import numpy as np
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
MAX_SIMPLE_VERTICES = 64
"""Rings up to this many corners are checked for self-intersection in numpy (all pairs of edges); longer
ones are left to shapely."""
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
    rings = list(rings)
    simple = simple_ring_inside(rings, width, height)
    if simple is not None:
        return ring_area(simple)
    return float(clipped(repaired(rings), width, height).area)


def ring_area(ring: np.ndarray) -> float:
    """The area enclosed by a simple ring ((n, 2) array, not closed): the shoelace formula as GEOS sums it
    (from the first corner, in order), so that it gives shapely's figure to the last bit."""
    closed = np.vstack([ring, ring[:1]])
    terms = (closed[1:-1, 0] - closed[0, 0]) * (closed[:-2, 1] - closed[2:, 1])
    return float(abs(np.cumsum(terms)[-1]) / 2)


def simple_ring_inside(rings: Sequence[Sequence[Point]], width: int, height: int) -> np.ndarray | None:
    """The only ring as an (n, 2) array, not closed, when `repaired` and `clipped` would leave it as it is:
    one ring inside the `width` x `height` image, at most `MAX_SIMPLE_VERTICES` corners, no repeated corner,
    no two edges touching but neighbours at their shared corner, no straight angle. None otherwise (shapely's
    path): this is the cheap path of the common case, a detector's or annotator's line polygon."""
    if len(rings) != 1 or not 3 <= len(rings[0]) <= MAX_SIMPLE_VERTICES + 1:
        return None
    points = rings[0]
    ring = np.asarray(points[:-1] if tuple(points[0]) == tuple(points[-1]) else points, dtype=float)
    if len(ring) < 3 or ring.min() < 0 or ring[:, 0].max() > width or ring[:, 1].max() > height:
        return None
    return ring if _is_simple(ring) else None


def _is_simple(ring: np.ndarray) -> bool:
    """No two edges of the ring meet but neighbours at their shared corner, and no corner is straight or turns
    back (counted as not simple: shapely decides those cases)."""
    direction = _next(ring) - ring
    following = _next(direction)
    if not np.all(direction[:, 0] * following[:, 1] - direction[:, 1] * following[:, 0]):
        return False
    # sides[i, j]: the side of edge i's line that corner j lies on; edge j spans corners j and j + 1, so
    # one_side[i, j] says that edge j lies wholly on one side of edge i's line.
    offset = ring[np.newaxis, :, :] - ring[:, np.newaxis, :]
    sides = np.sign(
        direction[:, np.newaxis, 0] * offset[..., 1] - direction[:, np.newaxis, 1] * offset[..., 0]
    )
    one_side = sides * _next(sides.T).T > 0
    return bool(np.all(one_side | one_side.T | _neighbours(len(ring))))


@cache
def _neighbours(corners: int) -> np.ndarray:
    """[i, j]: edges i and j of a ring of `corners` corners are the same edge or neighbours."""
    gap = np.abs(np.subtract.outer(np.arange(corners), np.arange(corners)))
    return (gap <= 1) | (gap == corners - 1)


def _next(rows: np.ndarray) -> np.ndarray:
    """Each row's successor, the first row after the last (np.roll's result, at a fraction of its cost)."""
    return np.concatenate((rows[1:], rows[:1]))


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
