"""Generated images of known content for the polygon and batch tests, and helpers to read responses back.

The gradient picture gives every pixel of a 256 x 256 window its own (red, green) pair: red is
`x % 256`, green `y % 256`, blue `(x + y) // 4 % 256`. A test can therefore say exactly which source
pixel any output pixel must be, and a shift of one pixel changes the colour.
"""

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyvips
import shapely
from shapely.geometry.base import BaseGeometry

WIDTH, HEIGHT = 600, 400


def gradient(width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """The gradient picture as a (height, width, 3) uint8 array."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x % 256, y % 256, (x + y) // 4 % 256], axis=-1).astype(np.uint8)


def to_vips(array: np.ndarray) -> pyvips.Image:
    """A (height, width, bands) uint8 array as an sRGB pyvips image."""
    return pyvips.Image.new_from_array(np.ascontiguousarray(array)).copy(interpretation="srgb")


def write_gradient_images(folder: Path) -> Path:
    """`gradient.png` (RGB) and `gradient-alpha.png` (RGBA, left half alpha 128) into `folder`."""
    pixels = gradient()
    to_vips(pixels).pngsave(str(folder / "gradient.png"))
    alpha = np.full((HEIGHT, WIDTH, 1), 255, dtype=np.uint8)
    alpha[:, : WIDTH // 2] = 128
    to_vips(np.concatenate([pixels, alpha], axis=2)).pngsave(str(folder / "gradient-alpha.png"))
    return folder


def decode(body: bytes) -> np.ndarray:
    """An encoded image as a (height, width, bands) array."""
    image = pyvips.Image.new_from_buffer(body, "")
    return image.numpy().reshape(image.height, image.width, image.bands)


def pixel_centres(
    box: tuple[int, int, int, int], out_width: int, out_height: int
) -> tuple[np.ndarray, np.ndarray]:
    """Full-image coordinates of the centres of an output of `out_width` x `out_height` for `box`."""
    x, y, w, h = box
    xs = x + (np.arange(out_width) + 0.5) * (w / out_width)
    ys = y + (np.arange(out_height) + 0.5) * (h / out_height)
    return np.meshgrid(xs, ys)


def centre_mask(
    geometry: BaseGeometry, box: tuple[int, int, int, int], out_width: int, out_height: int
) -> np.ndarray:
    """True where the output pixel's centre lies strictly inside `geometry` (computed by shapely).

    Raises when a centre lies exactly on the boundary, where "inside" would be a matter of convention:
    the test polygons are chosen so that never happens.
    """
    xs, ys = pixel_centres(box, out_width, out_height)
    on_boundary = shapely.intersects_xy(geometry.boundary, xs, ys)
    assert not on_boundary.any(), "test polygon puts a pixel centre on its boundary"
    return shapely.contains_xy(geometry, xs, ys)


def flat(points: Iterable[tuple[float, float]]) -> str:
    """`x1,y1,x2,y2,...` for a URL."""
    return ",".join(f"{x:g},{y:g}" for x, y in points)
