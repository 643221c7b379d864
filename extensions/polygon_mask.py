"""Rasterise a polygon at the output scale: a pixel is inside when its centre is inside (even-odd rule)."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry.base import BaseGeometry

from iiif_server.byte_cache import ByteBoundedCache
from iiif_server.region import Box

from .polygon_geometry import clipped

MaskKey = tuple[bytes, Box, int, int]
# Masks by polygon digest, box and output size; one byte per pixel (IIIF_MASK_CACHE_MB, set at start-up).
MASK_RASTERS: ByteBoundedCache[MaskKey, np.ndarray] = ByteBoundedCache(64 << 20, lambda mask: mask.nbytes)


def geometry_rings(geometry: BaseGeometry) -> list[np.ndarray]:
    """Every exterior and interior ring of a (multi)polygon as an (n, 2) array."""
    polygons = getattr(geometry, "geoms", [geometry])
    rings = []
    for polygon in polygons:
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        rings.append(np.asarray(polygon.exterior.coords))
        rings.extend(np.asarray(interior.coords) for interior in polygon.interiors)
    return rings


def rasterize_mask(rings: Sequence[np.ndarray], box: Box, out_width: int, out_height: int) -> np.ndarray:
    """A uint8 (height, width) array, 255 where the output pixel's centre (in image space) is inside the rings
    ((n, 2) arrays, closed or not) by the even-odd rule.

    Scanline fill in time and memory proportional to the edge crossings plus the output's pixels (an
    edge-by-row table would be rows x edges: gigabytes for a many-vertex polygon on a whole page).
    """
    scale_x, scale_y = box.width / out_width, box.height / out_height
    heads = np.concatenate(rings)  # edge i runs from heads[i] to tails[i]
    tails = np.concatenate([np.concatenate((ring[1:], ring[:1])) for ring in rings])
    (x0, y0), (x1, y1) = heads.T, tails.T
    centres_y = box.y + (np.arange(out_height) + 0.5) * scale_y
    low, high = np.minimum(y0, y1), np.maximum(y0, y1)
    # An edge crosses the rows whose centre is in [low, high): one run of rows, as centres_y is sorted.
    first = np.searchsorted(centres_y, low, side="left")
    counts = np.searchsorted(centres_y, high, side="left") - first
    edge = np.repeat(np.arange(len(heads)), counts)
    rows = first[edge] + np.arange(len(edge)) - np.repeat(np.cumsum(counts) - counts, counts)
    t = (centres_y[rows] - y0[edge]) / (y1[edge] - y0[edge])
    xs = x0[edge] + t * (x1[edge] - x0[edge])
    # Column c is inside a span [a, b) when a <= box.x + (c + 0.5) * scale_x < b.
    columns = np.clip(np.ceil((xs - box.x) / scale_x - 0.5), 0, out_width).astype(np.intp)
    # Even-odd: every ring crosses a row an even number of times (at [low, high)), so a row's crossings,
    # sorted, pair up as spans (1st, 2nd), (3rd, 4th), ...; sorted in row-major order, all of them cut the
    # flattened mask into runs of 0 and 255 (columns keep the order of the crossings' x; equal ones are
    # equal bounds).
    bounds = np.sort(rows * out_width + columns)
    runs = np.diff(bounds, prepend=0, append=out_width * out_height)
    values = np.zeros(len(runs), dtype=np.uint8)
    values[1::2] = 255
    return np.repeat(values, runs).reshape(out_height, out_width)


@dataclass(frozen=True)
class PolygonMask:
    """The core's RegionMask: rings in full-image pixels whose even-odd inside is the mask (a simple ring as
    given, or a repaired geometry's rings), and the area of the mask inside the image (the `min_area`
    measure)."""

    rings: tuple[np.ndarray, ...] = field(compare=False)
    area: float
    digest: bytes = field(init=False)

    def __post_init__(self) -> None:
        parts = (len(ring).to_bytes(4, "little") + ring.astype(float).tobytes() for ring in self.rings)
        digest = hashlib.blake2b(b"".join(parts)).digest()
        object.__setattr__(self, "digest", digest)

    @classmethod
    def of_geometry(cls, geometry: BaseGeometry, width: int, height: int) -> "PolygonMask":
        """The mask of a repaired (multi)polygon on a `width` x `height` image."""
        return cls(tuple(geometry_rings(geometry)), float(clipped(geometry, width, height).area))

    @property
    def vertices(self) -> int:
        """The corners of all rings."""
        return sum(len(ring) for ring in self.rings)

    def rasterize(self, box: Box, out_width: int, out_height: int) -> np.ndarray:
        """The mask at the output size (`rasterize_mask`), kept for repeats; read-only, as it is shared."""
        key = (self.digest, box, out_width, out_height)
        return MASK_RASTERS.get_or_make(key, lambda: self._raster(box, out_width, out_height))

    def _raster(self, box: Box, out_width: int, out_height: int) -> np.ndarray:
        mask = rasterize_mask(self.rings, box, out_width, out_height)
        mask.flags.writeable = False
        return mask
