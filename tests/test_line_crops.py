"""line_crops.levelled_window: after deskewing, a crop keeps its line and drops the margins the turn added."""

import math

import numpy as np
import pytest
import pyvips
from matplotlib.path import Path as Outline

from extensions.line_crops import crop_inside, levelled_window, skew_angle


def band(slant: float, length: float = 600, height: float = 30) -> tuple[tuple[float, float], ...]:
    """A line band from (100.3, 200.7), `slant` degrees clockwise."""
    along = np.array([math.cos(math.radians(slant)), math.sin(math.radians(slant))])
    across = np.array([-along[1], along[0]])
    start = np.array([100.3, 200.7])
    return tuple(
        tuple(start + along * u + across * v) for u, v in ((0, 0), (length, 0), (length, height), (0, height))
    )


@pytest.mark.parametrize("slant", [6.0, -6.0, 20.0, -35.0])
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_window_holds_the_turned_polygon_and_little_else(slant: float, scale: float) -> None:
    polygon = band(slant)
    origin = (math.floor(min(x for x, _ in polygon)), math.floor(min(y for _, y in polygon)))
    size = (
        round((math.ceil(max(x for x, _ in polygon)) - origin[0]) * scale),
        round((math.ceil(max(y for _, y in polygon)) - origin[1]) * scale),
    )
    ys, xs = np.mgrid[0 : size[1], 0 : size[0]]
    outline = Outline([((x - origin[0]) * scale, (y - origin[1]) * scale) for x, y in polygon])
    mask = outline.contains_points(np.c_[xs.ravel() + 0.5, ys.ravel() + 0.5]).reshape(size[1], size[0])
    image = pyvips.Image.new_from_array((mask * 255).astype(np.uint8)).cast("uchar")
    angle = -skew_angle(polygon)
    turned = image.rotate(angle, background=[0])
    window = levelled_window(polygon, origin, size, angle, scale)
    kept = crop_inside(turned, window)
    total = np.frombuffer(turned.write_to_memory(), np.uint8).astype(int).sum()
    assert np.frombuffer(kept.write_to_memory(), np.uint8).astype(int).sum() >= 0.995 * total
    assert kept.height <= 30 * scale + 6 and kept.width <= 600 * scale + 6
    assert turned.height > kept.height + 40 * scale
