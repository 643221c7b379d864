"""Segmenter targets: line polygons shrunk as in DB (differentiable binarisation), then rasterised."""

from collections.abc import Iterable, Sequence

import cv2
import numpy as np
from shapely.geometry import Polygon

from extensions.polygon_geometry import largest_outline, repaired

SUBPIXEL_BITS = 4  # polygon vertices are rasterised to 1/16 pixel
SUBPIXEL = 1 << SUBPIXEL_BITS
SUPERSAMPLE = 4  # masks are drawn 4x finer, then averaged into coverage fractions


def shrink_distance(polygon: Polygon, ratio: float) -> float:
    """DB's shrink offset D = A (1 - r²) / L: how far a polygon's outline moves inwards."""
    return polygon.area * (1 - ratio**2) / polygon.length if polygon.length else 0.0


def shrunk(ring: Sequence[tuple[float, float]] | np.ndarray, ratio: float) -> np.ndarray | None:
    """The polygon `ring` (repaired; its largest part) moved inwards by its shrink distance, as an (n, 2)
    array of its exterior; None when nothing of it is left (a sliver) or the ring is degenerate."""
    largest = largest_outline(repaired([ring]))
    if largest is None:
        return None
    inner = largest_outline(largest.buffer(-shrink_distance(largest, ratio), join_style="mitre"))
    return None if inner is None else np.asarray(inner.exterior.coords[:-1], np.float64)


def rasterise(
    polygons: Iterable[np.ndarray], shape: tuple[int, int], scale: float, offset: tuple[float, float]
) -> np.ndarray:
    """An (H, W) float32 map of how much of each pixel the polygons cover (0 to 1), the polygons given in page
    coordinates (pixel corners at integers), scaled by `scale` and moved by `-offset` (x, y)."""
    height, width = shape
    fine = np.zeros((height * SUPERSAMPLE, width * SUPERSAMPLE), np.uint8)
    origin = np.asarray(offset) * SUPERSAMPLE + 0.5  # fillPoly tests pixel centres at integer points
    rings = [
        np.round((points * scale * SUPERSAMPLE - origin) * SUBPIXEL).astype(np.int32) for points in polygons
    ]
    if rings:
        cv2.fillPoly(fine, rings, 255, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    coverage = cv2.resize(fine, (width, height), interpolation=cv2.INTER_AREA)
    return coverage.astype(np.float32) / 255
