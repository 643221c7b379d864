"""The project's own JSON: `{"image_id": ..., "regions": [{"id", "type", "coordinates", ...}]}`.

`coordinates` is a list of `[x, y]` pairs or a flat `[x1, y1, x2, y2, ...]` list, in full-image pixels.
"""

from typing import Any

from ..polygon_geometry import Point
from .documents import DOCUMENT, load_json
from .geometry import confidence, number, pairs, ring
from .json_fields import Json, as_object, listed, optional_str
from .model import AnnotatedRegion, AnnotationError, ImageSize, ParsedRegions


def parse(data: bytes, image_size: ImageSize | None = None) -> ParsedRegions:
    """Every region of the document, in order; `image_size` is unused (coordinates are pixels)."""
    document = as_object(load_json(data), DOCUMENT, "document")
    image_id = optional_str(document, DOCUMENT, "image_id")
    regions = listed(document.get("regions"), "regions", "region")
    return ParsedRegions(_region(entry, label, image_id) for label, entry in regions)


def _region(entry: Json, label: str, image_id: str | None) -> AnnotatedRegion:
    """One entry of `regions`."""
    return AnnotatedRegion(
        id=label,
        polygon=ring(_points(entry.get("coordinates"), label), label),
        region_type=optional_str(entry, label, "type") or "text",
        confidence=confidence(entry.get("confidence"), label),
        text=optional_str(entry, label, "text"),
        source_image=image_id,
    )


def _points(coordinates: Any, label: str) -> list[Point]:
    """`[[x, y], ...]` or `[x1, y1, x2, y2, ...]` as points."""
    if not isinstance(coordinates, list) or not coordinates:
        raise AnnotationError(label, "missing coordinates")
    if not all(isinstance(point, list) for point in coordinates):
        return pairs(coordinates, label)
    if any(len(point) != 2 for point in coordinates):
        raise AnnotationError(label, "every point must be [x, y]")
    return [(number(x, label), number(y, label)) for x, y in coordinates]
