"""The IIIF URL path of one line crop: a `poly:` (mask) or `x,y,w,h` (rect) region, the size, the deskew."""

import math
from dataclasses import dataclass
from urllib.parse import quote

from extensions.line_crops import MIN_SKEW_DEGREES, skew_angle
from iiif_server.numbers import format_decimal

Ring = tuple[tuple[float, float], ...]
CROP_KINDS = ("mask", "rect")


@dataclass(frozen=True)
class CropOptions:
    """How every line is cut: `crop` mask or rect, rotated level or not, and the IIIF size segment."""

    crop: str = "mask"
    deskew: bool = True
    size: str = "max"


@dataclass(frozen=True)
class CropRequest:
    """The URL path (below the IIIF base, `/{identifier}/...`), the clockwise rotation and the box it cuts."""

    path: str
    rotation: float
    bbox: tuple[int, int, int, int]


def bounding_box(polygon: Ring) -> tuple[int, int, int, int]:
    """`x, y, w, h` of the whole pixels the polygon touches, starting at 0 at the least."""
    xs, ys = [x for x, _ in polygon], [y for _, y in polygon]
    x0, y0 = max(0, math.floor(min(xs))), max(0, math.floor(min(ys)))
    return x0, y0, max(1, math.ceil(max(xs)) - x0), max(1, math.ceil(max(ys)) - y0)


def deskew_rotation(polygon: Ring) -> float:
    """The IIIF rotation (clockwise degrees in [0, 360)) that levels the line, 0 below MIN_SKEW_DEGREES."""
    angle = skew_angle(polygon)
    if abs(angle) < MIN_SKEW_DEGREES:
        return 0.0
    return round((-angle) % 360, 2) % 360


def polygon_region(polygon: Ring) -> str:
    """The `poly:` region segment, coordinates rounded to 0.1 px."""
    return "poly:" + ",".join(format_decimal(round(value, 1)) for point in polygon for value in point)


def crop_request(identifier: str, polygon: Ring, options: CropOptions) -> CropRequest:
    """The request for one line: masked to its polygon or cut to its box, levelled when `deskew` is set."""
    if options.crop not in CROP_KINDS:
        raise ValueError(f"crop must be one of {', '.join(CROP_KINDS)}, not {options.crop!r}")
    bbox = bounding_box(polygon)
    region = polygon_region(polygon) if options.crop == "mask" else ",".join(map(str, bbox))
    rotation = deskew_rotation(polygon) if options.deskew else 0.0
    path = f"/{quote(identifier, safe='')}/{region}/{options.size}/{format_decimal(rotation)}/default.png"
    return CropRequest(path, rotation, bbox)
