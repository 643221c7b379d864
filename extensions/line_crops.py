"""Line crops for the recogniser, cut as its model's recipe says: masked, filled, deskewed, scaled."""

import math

import numpy as np
import pyvips
from shapely.geometry import Polygon

from iiif_server.image_request import ImageRequest
from iiif_server.pipeline import build_image
from iiif_server.plan import plan
from iiif_server.region import PixelRegion
from iiif_server.rotation import Rotation
from iiif_server.settings import Limits
from iiif_server.size import Size
from iiif_server.sources import LevelOpener, SourceImage

from .polygon_region import PolygonRegion

Ring = tuple[tuple[float, float], ...]
MIN_SKEW_DEGREES = 1.5


def skew_angle(polygon: Ring) -> float:
    """The slant of a line polygon in degrees (clockwise positive), from its minimum rotated rectangle."""
    corners = np.asarray(Polygon(polygon).minimum_rotated_rectangle.exterior.coords)[:4]
    edges = np.roll(corners, -1, axis=0) - corners
    longest = edges[np.argmax(np.hypot(edges[:, 0], edges[:, 1]))]
    angle = math.degrees(math.atan2(longest[1], longest[0]))
    return (angle + 90) % 180 - 90


def line_height(polygon: Ring) -> float:
    """The short side of the polygon's minimum rotated rectangle: the height of the text line."""
    corners = np.asarray(Polygon(polygon).minimum_rotated_rectangle.exterior.coords)[:4]
    sides = np.hypot(*(np.roll(corners, -1, axis=0) - corners).T)
    return float(max(1.0, sides.min()))


def to_array(image: pyvips.Image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array from an 8-bit pyvips image without alpha."""
    if image.bands == 1:
        image = image.bandjoin([image, image])
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, 3))


def cut_line(
    source: SourceImage,
    opener: LevelOpener,
    polygon: Ring | None,
    box: tuple[int, int, int, int],
    target_height: int,
    mask: bool = True,
    deskew: bool = True,
    background: tuple[int, int, int] = (255, 255, 255),
) -> np.ndarray:
    """The region scaled so the line is about twice `target_height` tall, outside filled, slant removed."""
    region = PolygonRegion((polygon,)) if polygon and mask else PixelRegion(*box)
    height = line_height(polygon) if polygon else box[3]
    scale = min(1.0, 2 * target_height / height)
    request = ImageRequest("", region, Size("pct", percent=scale * 100), Rotation(), "default", "png")
    image = build_image(source, opener, plan(request, source.width, source.height, Limits(None, None, None)))
    angle = skew_angle(polygon) if polygon and deskew else 0.0
    if abs(angle) >= MIN_SKEW_DEGREES:
        image = image.rotate(-angle, background=[0] * image.bands if image.hasalpha() else list(background))
    if image.hasalpha():
        image = image.flatten(background=list(background))
    return to_array(image.cast("uchar"))
