"""The `poly:` region syntax: pixel or percent rings, validated and repaired with shapely."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from iiif_server.byte_cache import ByteBoundedCache
from iiif_server.errors import IIIFError, bad_request
from iiif_server.numbers import bounded_number, format_decimal
from iiif_server.region import Box, ResolvedRegion

from .polygon_geometry import Ring, bounds, clipped, pixel_box, repaired, ring_area, simple_ring_inside
from .polygon_mask import PolygonMask

# ASCII only, like the core: `\d` alone would also accept digits such as "٣" (and float() reads them).
_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)", re.ASCII)

# Bytes a vertex holds in a cached entry: its (x, y) tuple in the key (~112) and its coordinates in GEOS (16).
VERTEX_BYTES = 128


def _resolved_bytes(resolved: ResolvedRegion) -> int:
    """An estimate of a cached resolution's memory: its key's rings, the geometry and the canonical text."""
    assert isinstance(resolved.mask, PolygonMask)
    return VERTEX_BYTES * resolved.mask.vertices + len(resolved.canonical)


ResolvedKey = tuple["PolygonRegion", int, int]
# A repeated polygon (a reloaded crop, a cached answer's ETag) skips shapely (IIIF_POLYGON_CACHE_MB).
RESOLVED_POLYGONS: ByteBoundedCache[ResolvedKey, ResolvedRegion] = ByteBoundedCache(16 << 20, _resolved_bytes)


def _ring(text: str) -> Ring:
    """`x1,y1,x2,y2,...` as a tuple of points."""
    parts = text.split(",")
    if any(not _NUMBER.fullmatch(p) for p in parts):
        raise bad_request("region", f"polygon coordinates must be decimal numbers: {text!r}")
    if len(parts) % 2:
        raise bad_request("region", "polygon coordinates must come in x,y pairs")
    values = [float(bounded_number(p, "region")) for p in parts]
    return tuple(zip(values[0::2], values[1::2], strict=True))


def _mask_geometry(rings: Sequence[Ring]) -> BaseGeometry:
    """The repaired union of the rings (`polygon_geometry.repaired`); 400 for a ring of fewer than 3 distinct
    points or a polygon without area."""
    if any(len(set(ring)) < 3 for ring in rings):
        raise bad_request("region", "a polygon needs at least 3 distinct points")
    geometry = repaired(rings)
    if geometry.is_empty or geometry.area == 0:
        raise bad_request("region", "the polygon has zero area")
    return geometry


def _box_inside(geometry: BaseGeometry, width: int, height: int) -> Box:
    """The whole pixels touched by the geometry's bounds, clipped to the image (400 when outside)."""
    inside = clipped(geometry, width, height)
    if inside.is_empty or inside.area == 0:
        raise bad_request("region", f"the polygon lies outside the {width}x{height} image")
    return Box(*pixel_box(inside.bounds))


@dataclass(frozen=True)
class PolygonRegion:
    """`poly:` rings in pixels, or in percent of the image when `percent` is set."""

    rings: tuple[Ring, ...]
    percent: bool = False

    def pixel_rings(self, width: int, height: int) -> tuple[Ring, ...]:
        """The rings in full-image pixels."""
        if not self.percent:
            return self.rings
        return tuple(tuple((x * width / 100, y * height / 100) for x, y in ring) for ring in self.rings)

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        """The polygon's bounding box with the polygon as the mask."""
        return RESOLVED_POLYGONS.get_or_make((self, width, height), lambda: _resolved(self, width, height))


def _resolved(region: PolygonRegion, width: int, height: int) -> ResolvedRegion:
    """The box and mask of the rings: a simple ring inside the image as it is (no shapely on this, the
    common path), anything else repaired and clipped (`_mask_geometry`, `_box_inside`)."""
    rings = region.pixel_rings(width, height)
    canonical = "poly:" + ";".join(
        ",".join(f"{format_decimal(x)},{format_decimal(y)}" for x, y in r) for r in rings
    )
    simple = simple_ring_inside(rings, width, height)
    if simple is not None:
        mask = PolygonMask((simple,), ring_area(simple))
        return ResolvedRegion(Box(*pixel_box(bounds(simple.tolist()))), canonical, mask)
    geometry = _mask_geometry(rings)
    box = _box_inside(geometry, width, height)
    return ResolvedRegion(box, canonical, PolygonMask.of_geometry(geometry, width, height))


def polygon_parser(max_vertices: int):
    """A parser for the text after `poly:` that refuses more than `max_vertices` vertices (413)."""

    def parse(text: str, identifier: str = "") -> PolygonRegion:
        percent = text.startswith("pct:")
        body = text[4:] if percent else text
        numbers = sum(part.count(",") + 1 for part in body.split(";") if part)  # every ring counts
        if numbers > 2 * max_vertices:
            raise IIIFError(413, f"more than IIIF_MAX_POLYGON_VERTICES={max_vertices} vertices", "region")
        rings = tuple(_ring(part) for part in body.split(";") if part)
        if not rings:
            raise bad_request("region", "poly: needs at least one ring of x,y pairs")
        return PolygonRegion(rings, percent)

    return parse
