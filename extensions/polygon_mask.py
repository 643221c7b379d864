"""Rasterise a polygon at the output scale: a pixel is inside when its centre is inside (even-odd rule)."""

from dataclasses import dataclass

import numpy as np
import pyvips
from shapely.geometry.base import BaseGeometry

from iiif_server.region import Box


def _rings(geometry: BaseGeometry) -> list[np.ndarray]:
    """Every exterior and interior ring of a (multi)polygon as an (n, 2) array."""
    polygons = getattr(geometry, "geoms", [geometry])
    rings = []
    for polygon in polygons:
        if polygon.geom_type != "Polygon" or polygon.is_empty:
            continue
        rings.append(np.asarray(polygon.exterior.coords))
        rings.extend(np.asarray(interior.coords) for interior in polygon.interiors)
    return rings


def rasterize_mask(geometry: BaseGeometry, box: Box, out_width: int, out_height: int) -> np.ndarray:
    """A uint8 (height, width) array, 255 where the output pixel's centre (in image space) is inside."""
    scale_x, scale_y = box.width / out_width, box.height / out_height
    edges = np.concatenate([np.stack([ring[:-1], ring[1:]], axis=1) for ring in _rings(geometry)])
    (x0, y0), (x1, y1) = edges[:, 0].T, edges[:, 1].T
    centres_y = box.y + (np.arange(out_height) + 0.5) * scale_y
    low, high = np.minimum(y0, y1), np.maximum(y0, y1)
    crosses = (centres_y[:, None] >= low) & (centres_y[:, None] < high)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (centres_y[:, None] - y0) / (y1 - y0)
    xs = np.where(crosses, x0 + t * (x1 - x0), np.inf)
    xs.sort(axis=1)
    coverage = np.zeros((out_height, out_width + 1), dtype=np.int32)
    # Column c is inside a span [a, b) when a <= box.x + (c + 0.5) * scale_x < b.
    columns = np.clip(np.ceil((xs - box.x) / scale_x - 0.5), 0, out_width)
    rows = np.arange(out_height)[:, None]
    starts, ends = columns[:, 0::2], columns[:, 1::2]
    count = min(starts.shape[1], ends.shape[1])
    starts, ends = starts[:, :count], ends[:, :count]
    valid = np.isfinite(xs[:, 0::2][:, :count]) & np.isfinite(xs[:, 1::2][:, :count])
    row_index = np.broadcast_to(rows, starts.shape)[valid]
    np.add.at(coverage, (row_index, starts[valid].astype(np.intp)), 1)
    np.add.at(coverage, (row_index, ends[valid].astype(np.intp)), -1)
    return (np.cumsum(coverage[:, :out_width], axis=1) > 0).astype(np.uint8) * 255


@dataclass(frozen=True)
class PolygonMask:
    """The core's RegionMask for a shapely (multi)polygon in full-image pixels."""

    geometry: BaseGeometry

    def rasterize(self, box: Box, out_width: int, out_height: int) -> pyvips.Image:
        """The mask as a one-band uchar pyvips image of the output size."""
        mask = rasterize_mask(self.geometry, box, out_width, out_height)
        return pyvips.Image.new_from_memory(mask.tobytes(), out_width, out_height, 1, "uchar")
