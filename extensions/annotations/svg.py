"""SVG selectors: one `<polygon>`, `<polyline>`, `<rect>` or straight-line `<path>`, as points."""

import re
from collections.abc import Sequence

from lxml import etree

from ..polygon_geometry import Point
from .documents import load_xml, local_name
from .geometry import NUMBER, number, points_text, rectangle
from .layout import PixelPoint, format_points
from .model import AnnotationError

_SHAPES = {"polygon", "polyline", "rect", "path", "circle", "ellipse", "line"}
_ARITY = {"M": 2, "L": 2, "H": 1, "V": 1, "Z": 0}
_PATH_TOKEN = re.compile(rf"(?P<command>[A-Za-z])|(?P<number>{NUMBER})|(?P<separator>[\s,]+)|(?P<bad>.)")
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def svg_points(svg: object, item: str) -> list[Point]:
    """The points of the one shape an SVG selector draws; curves, transforms and several shapes are errors."""
    if not isinstance(svg, str):
        raise AnnotationError(item, "SvgSelector value is not a string")
    root = load_xml(svg.encode(), item)
    elements = list(root.iter(etree.Element))
    if any(e.get("transform") for e in elements):
        raise AnnotationError(item, "SVG transforms are not supported")
    shapes = [e for e in elements if local_name(e) in _SHAPES]
    if len(shapes) != 1:
        raise AnnotationError(item, f"SVG selector must draw exactly one shape, found {len(shapes)}")
    shape = shapes[0]
    name = local_name(shape)
    if name in ("polygon", "polyline"):
        return points_text(shape.get("points", ""), item)
    if name == "rect":
        x, y, width, height = (_length(shape, key, item) for key in ("x", "y", "width", "height"))
        return rectangle(x, y, width, height, item)
    if name == "path":
        return path_points(shape.get("d", ""), item)
    raise AnnotationError(item, f"SVG <{name}> is not supported; use polygon, rect or a straight-line path")


def _length(shape: etree._Element, key: str, item: str) -> float:
    """A rect attribute in user units (a `px` suffix is allowed); x and y default to 0."""
    value = shape.get(key, "0" if key in ("x", "y") else None)
    if value is None:
        raise AnnotationError(item, f"SVG <rect> has no {key}")
    return number(value.strip().removesuffix("px"), item, f"rect {key}")


def path_points(d: str, item: str) -> list[Point]:
    """The vertices of one straight-line subpath (M, L, H, V, Z, absolute or relative)."""
    segments = _segments(d, item)
    if not segments or segments[0][0] not in "Mm":
        raise AnnotationError(item, "SVG path must start with a moveto (M or m)")
    points: list[Point] = []
    for index, (command, args) in enumerate(segments):
        kind = command.upper()
        if kind not in _ARITY:
            raise AnnotationError(item, f"SVG path command {command!r} is not a straight line (M L H V Z)")
        if kind == "M" and index:
            raise AnnotationError(item, "SVG path has more than one subpath")
        if kind == "Z":
            if args or index != len(segments) - 1:
                raise AnnotationError(item, "SVG path continues after Z")
            break
        arity = _ARITY[kind]
        if not args or len(args) % arity:
            raise AnnotationError(item, f"SVG path command {command!r} has {len(args)} coordinates")
        for start in range(0, len(args), arity):
            points.append(_step(points[-1] if points else (0.0, 0.0), command, args[start : start + arity]))
    return points


def _step(current: Point, command: str, args: list[float]) -> Point:
    """The point one M, L, H or V step reaches from `current`; lower-case commands are relative."""
    base_x, base_y = current if command.islower() else (0.0, 0.0)
    kind = command.upper()
    if kind == "H":
        return (base_x + args[0], current[1])
    if kind == "V":
        return (current[0], base_y + args[0])
    return (base_x + args[0], base_y + args[1])


def _segments(d: str, item: str) -> list[tuple[str, list[float]]]:
    """Path data split into commands, each with the numbers that follow it."""
    segments: list[tuple[str, list[float]]] = []
    for match in _PATH_TOKEN.finditer(d):
        if match["bad"]:
            raise AnnotationError(item, f"SVG path data has an unexpected {match['bad']!r}")
        if match["command"]:
            segments.append((match["command"], []))
        elif match["number"]:
            if not segments:
                raise AnnotationError(item, "SVG path data starts with a number")
            segments[-1][1].append(float(match["number"]))
    return segments


def polygon_svg(points: Sequence[PixelPoint]) -> str:
    """An SvgSelector value drawing one polygon as a closed straight-line `<path>` (the shape `svg_points`
    reads back; Mirador draws only `<path>` elements)."""
    return f"<svg xmlns='{SVG_NAMESPACE}'><path d='M{format_points(points).replace(' ', ' L')} Z'/></svg>"
