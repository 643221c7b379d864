"""What the writers share: lines grouped into blocks, whole-pixel points, XML ids and XML output.

Points are rounded half up to whole pixels (the project's one rounding rule) and, where the image size is
known, clamped to the image; a polygon that collapses on the way is an AnnotationError naming its region.
"""

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from iiif_server.numbers import round_half_up

from ..polygon_geometry import repaired
from .geometry import bounding_box, ring
from .model import AnnotatedRegion, ImageSize

XSI = "http://www.w3.org/2001/XMLSchema-instance"
NON_TEXT_TYPES = frozenset({"figure", "graphic", "stamp", "signature", "ornament"})
"""Block types holding no text (PAGE ImageRegion or GraphicRegion, ALTO Illustration): kept out of the text
outputs."""
STRUCTURE_BLOCK_TYPES = frozenset(
    {"paragraph", "title", "caption", "table", "header", "footer", "reference", "equation"}
)
"""The text block types of the server's page structure (PAGE TextRegion `@type`, ALTO StructureTag)."""
BLOCK_TYPES = frozenset({"TextRegion", "TextBlock", "block"} | STRUCTURE_BLOCK_TYPES | NON_TEXT_TYPES)
"""Region types written as blocks (PAGE TextRegion, ALTO TextBlock, or the non-text ones); every other type
is a line."""

PixelPoint = tuple[int, int]
_NOT_IN_ID = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class Block:
    """A block-level region and the lines written inside it, in input order."""

    region: AnnotatedRegion
    lines: tuple[AnnotatedRegion, ...]


def blocks(regions: Sequence[AnnotatedRegion]) -> list[Block]:
    """Block regions in input order, each holding the lines that name it as their `parent`, or else whose
    centroid it covers (the first one wins); a non-text block holds none.

    Lines inside no block go into one more block at the end: their bounding box, with an unused id.
    """
    found = [r for r in regions if r.region_type in BLOCK_TYPES]
    text_blocks = [r for r in found if r.region_type not in NON_TEXT_TYPES]
    shapes = [repaired([ring(r.polygon, r.id)]) for r in text_blocks]
    members: dict[str, list[AnnotatedRegion]] = {r.id: [] for r in found}
    text_ids = {r.id for r in text_blocks}
    loose: list[AnnotatedRegion] = []
    for line in (r for r in regions if r.region_type not in BLOCK_TYPES):
        if line.parent in text_ids:
            members[line.parent].append(line)
            continue
        centroid = repaired([ring(line.polygon, line.id)]).centroid
        covering = (r.id for r, shape in zip(text_blocks, shapes, strict=True) if shape.covers(centroid))
        home = next(covering, None)
        (loose if home is None else members[home]).append(line)
    grouped = [Block(r, tuple(members[r.id])) for r in found]
    if loose:
        grouped.append(Block(_enclosing(loose, unused_id("lines", regions)), tuple(loose)))
    return grouped


def _enclosing(lines: Sequence[AnnotatedRegion], identifier: str) -> AnnotatedRegion:
    """A block region whose polygon is the bounding box of the lines."""
    return AnnotatedRegion(identifier, bounding_box(line.polygon for line in lines), "block")


def pixel_points(region: AnnotatedRegion, image_size: ImageSize | None = None) -> list[PixelPoint]:
    """The region's polygon in whole pixels, clamped to the image when its size is given."""
    width, height = image_size or (None, None)
    points = [(_pixel(x, width), _pixel(y, height)) for x, y in region.polygon]
    ring(points, region.id)  # still a polygon with some area, or an AnnotationError
    return points


def _pixel(value: float, limit: int | None) -> int:
    """One coordinate rounded half up, and clamped to 0..limit when there is a limit."""
    pixel = round_half_up(value)
    return pixel if limit is None else min(max(pixel, 0), limit)


def format_points(points: Iterable[PixelPoint]) -> str:
    """Points as PAGE `points`, ALTO `POINTS` and SVG `points` write them: `x1,y1 x2,y2 ...`."""
    return " ".join(f"{x},{y}" for x, y in points)


def xml_id(identifier: str) -> str:
    """A valid XML ID: characters other than `A-Za-z0-9._-` become `_`, and `_` goes before a leading digit,
    `.` or `-` (or an empty id)."""
    cleaned = _NOT_IN_ID.sub("_", identifier)
    return cleaned if re.match("[A-Za-z_]", cleaned) else f"_{cleaned}"


def unused_id(base: str, regions: Iterable[AnnotatedRegion]) -> str:
    """`base`, or `base_2`, `base_3`, ...: the first that no region's XML id takes."""
    taken = {xml_id(r.id) for r in regions}
    candidates = itertools.chain([base], (f"{base}_{n}" for n in itertools.count(2)))
    return next(c for c in candidates if c not in taken)


def xml_bytes(root: etree._Element) -> bytes:
    """The document as indented UTF-8 with an XML declaration."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
