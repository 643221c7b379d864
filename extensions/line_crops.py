"""Line crops for the recogniser, cut as its model's recipe says: masked, filled, deskewed, scaled."""

import math
from dataclasses import dataclass

import numpy as np
import pyvips
from shapely.geometry import Polygon

from iiif_server.image_request import ImageRequest
from iiif_server.pipeline import build_image
from iiif_server.plan import ImagePlan, plan
from iiif_server.region import PixelRegion
from iiif_server.rotation import Rotation
from iiif_server.settings import Limits
from iiif_server.size import Size
from iiif_server.sources import LevelOpener, SourceImage

from .polygon_geometry import Ring
from .polygon_region import PolygonRegion

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


def levelled_window(
    polygon: Ring,
    origin: tuple[float, float],
    size: tuple[int, int],
    degrees: float,
    scale: float = 1.0,
    pad: float = 2.0,
) -> tuple[int, int, int, int]:
    """`left, top, width, height` of the polygon (page pixels) inside a crop that starts at `origin`, is
    `size` pixels once scaled by `scale`, then rotated clockwise by `degrees` onto its bounding canvas, as
    IIIF rotation and libvips do: what is left of the crop once the margins the rotation added are cut."""
    turn = np.array([[math.cos(math.radians(degrees)), -math.sin(math.radians(degrees))]])
    turn = np.vstack([turn, [-turn[0, 1], turn[0, 0]]])
    width, height = size
    corners = np.array([(0, 0), (width, 0), (width, height), (0, height)], float) @ turn.T
    points = ((np.asarray(polygon, float) - origin) * scale) @ turn.T - corners.min(axis=0)
    canvas = corners.max(axis=0) - corners.min(axis=0)
    left, top = np.maximum(0, np.floor(points.min(axis=0) - pad)).astype(int)
    right, bottom = np.minimum(np.ceil(canvas), np.ceil(points.max(axis=0) + pad)).astype(int)
    return int(left), int(top), max(1, int(right - left)), max(1, int(bottom - top))


def crop_inside(image: pyvips.Image, window: tuple[int, int, int, int]) -> pyvips.Image:
    """The part of `image` in `window`, the window first clipped to the image."""
    left, top = min(window[0], image.width - 1), min(window[1], image.height - 1)
    width, height = min(window[2], image.width - left), min(window[3], image.height - top)
    return image.crop(left, top, width, height)


def to_array(image: pyvips.Image) -> np.ndarray:
    """An (H, W, 3) uint8 RGB array from an 8-bit pyvips image without alpha."""
    if image.bands == 1:
        image = image.bandjoin([image, image])
    return np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, 3))


@dataclass(frozen=True)
class LineCrop:
    """One line to cut for the recogniser: its polygon (None: the box alone) and box in page pixels, and how
    its model wants it (line height, mask, deskew, fill)."""

    polygon: Ring | None
    box: tuple[int, int, int, int]
    target_height: int
    mask: bool = True
    deskew: bool = True
    background: tuple[int, int, int] = (255, 255, 255)

    @property
    def scale(self) -> float:
        """The scale that makes the line about twice `target_height` tall (never enlarged)."""
        height = line_height(self.polygon) if self.polygon else self.box[3]
        return min(1.0, 2 * self.target_height / height)

    def plan(self, source: SourceImage) -> ImagePlan:
        """The pixels the cut reads: the line's box at `scale`, masked by its polygon when the recipe says so
        (pure: an upstream page is asked for exactly these)."""
        region = PolygonRegion((self.polygon,)) if self.polygon and self.mask else PixelRegion(*self.box)
        size = Size("pct", percent=self.scale * 100)
        request = ImageRequest("", region, size, Rotation(), "default", "png")
        return plan(request, source.width, source.height, Limits(None, None, None))


def cut_line(source: SourceImage, opener: LevelOpener, line: LineCrop, image_plan: ImagePlan) -> np.ndarray:
    """The line's planned pixels (`line.plan`), slant removed (and with it the margins the rotation added),
    outside filled."""
    image = build_image(source, opener, image_plan)
    polygon = line.polygon
    angle = skew_angle(polygon) if polygon and line.deskew else 0.0
    if polygon and abs(angle) >= MIN_SKEW_DEGREES:
        origin = line.box[:2] if not line.mask else tuple(np.floor(np.asarray(polygon).min(axis=0)))
        window = levelled_window(polygon, origin, (image.width, image.height), -angle, line.scale)
        fill = [0] * image.bands if image.hasalpha() else list(line.background)
        image = crop_inside(image.rotate(-angle, background=fill), window)
    if image.hasalpha():
        image = image.flatten(background=list(line.background))
    return to_array(image.cast("uchar"))
