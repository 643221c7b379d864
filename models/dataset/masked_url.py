"""The IIIF URL path of one line crop: a `poly:` (mask) or `x,y,w,h` (rect) region, the size, the deskew."""

from dataclasses import dataclass
from urllib.parse import quote

from shapely.geometry import Polygon

from extensions.line_crops import MIN_SKEW_DEGREES, skew_angle
from extensions.polygon_geometry import Ring, bounds, largest_outline, pixel_box
from iiif_server.numbers import format_decimal

CROP_KINDS = ("mask", "rect")


@dataclass(frozen=True)
class CropOptions:
    """How every line is cut: `crop` mask or rect, rotated level or not, the IIIF size segment, the margin."""

    crop: str = "mask"
    deskew: bool = True
    size: str = "max"
    margin: float = 0.0  # pixels the polygon is grown by (mitred) before it is cut


@dataclass(frozen=True)
class CropRequest:
    """The URL path (below the IIIF base, `/{identifier}/...`), the clockwise rotation, the box it cuts and
    the polygon it cuts (the line's, grown by the margin)."""

    path: str
    rotation: float
    bbox: tuple[int, int, int, int]
    polygon: Ring


def deskew_rotation(polygon: Ring) -> float:
    """The IIIF rotation (clockwise degrees in [0, 360)) that levels the line, 0 below MIN_SKEW_DEGREES."""
    angle = skew_angle(polygon)
    if abs(angle) < MIN_SKEW_DEGREES:
        return 0.0
    return round((-angle) % 360, 2) % 360


def polygon_region(polygon: Ring) -> str:
    """The `poly:` region segment, coordinates rounded to 0.1 px."""
    return "poly:" + ",".join(format_decimal(round(value, 1)) for point in polygon for value in point)


def grown(polygon: Ring, margin: float) -> Ring:
    """The polygon grown outwards by `margin` pixels with mitred corners (as it is when the margin is 0)."""
    if margin <= 0:
        return polygon
    outline = largest_outline(Polygon(polygon).buffer(margin, join_style="mitre", mitre_limit=2.0))
    assert outline is not None, "a positive margin always leaves some area"
    return tuple((float(x), float(y)) for x, y in outline.exterior.coords[:-1])


def crop_request(identifier: str, polygon: Ring, options: CropOptions) -> CropRequest:
    """The request for one line: masked to its polygon or cut to its box, levelled when `deskew` is set."""
    if options.crop not in CROP_KINDS:
        raise ValueError(f"crop must be one of {', '.join(CROP_KINDS)}, not {options.crop!r}")
    polygon = grown(polygon, options.margin)
    bbox = pixel_box(bounds(polygon))
    region = polygon_region(polygon) if options.crop == "mask" else ",".join(map(str, bbox))
    rotation = deskew_rotation(polygon) if options.deskew else 0.0
    path = f"/{quote(identifier, safe='')}/{region}/{options.size}/{format_decimal(rotation)}/default.png"
    return CropRequest(path, rotation, bbox, polygon)
