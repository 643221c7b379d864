"""Numbers, point lists and rings as annotation documents write them, validated item by item."""

import math
import re
from collections.abc import Iterable, Sequence

from ..polygon_geometry import Point, Ring, bounds, repaired
from .model import AnnotationError

NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
"""A decimal as XML attributes and SVG write it: no NaN, no infinity, no underscores."""
_NUMBER = re.compile(NUMBER)
_SEPARATORS = re.compile(r"[\s,]+")


def number(value: object, item: str, what: str = "coordinate") -> float:
    """A finite number from a JSON number or a numeric string."""
    if value is None:
        raise AnnotationError(item, f"missing {what}")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise AnnotationError(item, f"{what} {value!r} is not a number")
    if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
        raise AnnotationError(item, f"{what} {value!r} is not a number")
    try:
        result = float(value)
    except OverflowError:  # a JSON integer too large for a float
        result = math.inf
    if not math.isfinite(result):
        raise AnnotationError(item, f"{what} {value!r} is not a finite number")
    return result


def confidence(value: object, item: str) -> float | None:
    """A confidence between 0 and 1, or None when the source gives none."""
    if value is None:
        return None
    result = number(value, item, "confidence")
    if not 0 <= result <= 1:
        raise AnnotationError(item, f"confidence {value!r} is outside 0..1")
    return result


def pairs(values: Sequence[object], item: str) -> list[Point]:
    """A flat list `x1, y1, x2, y2, ...` as points."""
    if len(values) % 2:
        raise AnnotationError(item, f"{len(values)} coordinates do not make x,y pairs")
    numbers = [number(v, item) for v in values]
    return list(zip(numbers[0::2], numbers[1::2], strict=True))


def points_text(text: str, item: str) -> list[Point]:
    """Points written as `x1,y1 x2,y2 ...` or `x1 y1 x2 y2 ...` (PAGE, ALTO, SVG `points`)."""
    return pairs([t for t in _SEPARATORS.split(text) if t], item)


def rectangle(x: float, y: float, width: float, height: float, item: str) -> list[Point]:
    """The four corners of an axis-aligned box, clockwise from the top left."""
    if width <= 0 or height <= 0:
        raise AnnotationError(item, f"box {width}x{height} has no area")
    return [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]


def ring(points: Iterable[Point], item: str) -> Ring:
    """A validated ring: finite, 3 or more distinct points, some area; a repeated closing point is dropped."""
    result = [(number(x, item), number(y, item)) for x, y in points]
    while len(result) > 1 and result[-1] == result[0]:
        result.pop()
    if len(set(result)) < 3:
        raise AnnotationError(item, f"polygon needs at least 3 distinct points, got {len(set(result))}")
    if not repaired([result]).area > 0:  # the mask's rule: a bow-tie has area, a line of points has none
        raise AnnotationError(item, "polygon has no area (all points on one line)")
    return tuple(result)


def bounding_box(rings: Iterable[Ring]) -> Ring:
    """The axis-aligned box around all points of the rings, clockwise from the top left."""
    x0, y0, x1, y1 = bounds(point for found in rings for point in found)
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
