"""A page's structure from Stage 1: typed blocks in reading order, each holding its whole lines top to bottom.

The detector's line pieces are cut into blocks by the recursive XY-cut (columns left to right, blocks top
to bottom in a column), the pieces of one line joined within a block, and each block typed by the layout
model's box holding its lines (`paragraph` without one). Pieces shaped like no line of text (signatures,
stamps: `graphic`) and the layout model's figures are blocks without lines, and the pieces inside a figure
are not text. Header blocks go first and footer blocks last. Ids follow reading order: `b0001`, … for
blocks, `r0001`, … for lines, so they stay the same for the same image and models.
"""

import math
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from shapely.geometry import Polygon

from .annotations.geometry import bounding_box
from .annotations.layout import NON_TEXT_TYPES
from .annotations.model import AnnotatedRegion
from .line_joining import line_groups
from .page_tiling import joined
from .polygon_geometry import Bounds, bounds, reading_order
from .xy_cut import xy_cut

LINE = "line"
GRAPHIC = "graphic"
TEXT_BLOCK = "paragraph"
"""The type of a block of text no layout box types."""
NON_TEXT = NON_TEXT_TYPES
"""Block types that hold no text: kept out of the text outputs, listed with their type."""
FIRST, LAST = "header", "footer"
INSIDE = 0.5
"""A piece belongs to a layout box when more than this share of its box lies inside it."""
GRAPHIC_HEIGHT = 2.0
GRAPHIC_ASPECT = 3.0
"""A detected piece over `GRAPHIC_HEIGHT` median piece thicknesses thick and under `GRAPHIC_ASPECT` times as
long as thick (both along its own direction) is no line of text but a signature, a stamp or a drawing: a
`graphic` block without text."""
TEXT_FILL = 0.1
"""A non-text box whose detected lines cover more than this share of it is text that the layout model
took for a picture (the CDLA model calls whole pages of verse or typescript `figure`): a paragraph."""


class LayoutBox(Protocol):
    """What a layout model finds: an upright box in page pixels, its region type and score."""

    box: Bounds
    region_type: str
    confidence: float


def page_structure(pieces: Sequence[Any], layout: Sequence[LayoutBox] = ()) -> list[AnnotatedRegion]:
    """Blocks and lines in reading order, each block followed by its lines (`parent` is the block's id).

    `pieces` are the detector's regions (`polygon`, `confidence`) in page pixels, `layout` the layout
    model's boxes (none: every block is a `paragraph`). A page with no text gives an empty list."""
    figures = [box for box in layout if box.region_type in NON_TEXT and _text_fill(box, pieces) <= TEXT_FILL]
    texts = [box for box in layout if box not in figures]
    graphics = _graphics(pieces)
    figures += [_Graphic(bounds(piece.polygon), GRAPHIC, piece.confidence) for piece in graphics]
    text_pieces = [p for p in pieces if p not in graphics and _home(bounds(p.polygon), figures) is None]
    units = [bounds(piece.polygon) for piece in text_pieces] + [figure.box for figure in figures]
    blocks: list[tuple[str, list[Any]]] = []
    for group in xy_cut(units):
        run: list[Any] = []
        for index in group:
            if index < len(text_pieces):
                run.append(text_pieces[index])
                continue
            blocks += _text_blocks(run, texts)
            run = []
            figure = figures[index - len(text_pieces)]
            blocks.append((figure.region_type, [figure]))
        blocks += _text_blocks(run, texts)
    return list(_numbered(_ordered(blocks)))


def _text_blocks(run: list[Any], texts: Sequence[LayoutBox]) -> list[tuple[str, list[Any]]]:
    """The typed text blocks of a run of pieces that the XY-cut put together."""
    if not run:
        return []
    return [(_block_type(lines, texts), lines) for lines in _typed_runs(_whole_lines(run), texts)]


@dataclass(frozen=True)
class _Graphic:
    """A non-text piece found by its shape, as a layout box."""

    box: Bounds
    region_type: str
    confidence: float


def _graphics(pieces: Sequence[Any]) -> list[Any]:
    """The pieces shaped like no line of text (`GRAPHIC_HEIGHT`, `GRAPHIC_ASPECT`), measured along their own
    direction, so that a slanted or rotated line is still a line."""
    sides = [_oriented_sides(piece.polygon) for piece in pieces]
    if not sides:
        return []
    thickness = statistics.median(short for short, _ in sides)
    return [
        piece
        for piece, (short, long) in zip(pieces, sides, strict=True)
        if short > GRAPHIC_HEIGHT * thickness and long < GRAPHIC_ASPECT * short
    ]


def _oriented_sides(ring: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """The short and long side of the smallest rotated rectangle around a polygon (0 for a flat one)."""
    rectangle = Polygon(ring).minimum_rotated_rectangle
    if not isinstance(rectangle, Polygon):
        return 0.0, 0.0
    corners = list(rectangle.exterior.coords)
    sides = sorted(math.dist(corners[index], corners[index + 1]) for index in range(2))
    return sides[0], sides[1]


def _text_fill(figure: LayoutBox, pieces: Sequence[Any]) -> float:
    """The share of a box that the detected pieces mostly inside it cover."""
    x0, y0, x1, y1 = figure.box
    area = max((x1 - x0) * (y1 - y0), 1e-9)
    boxes = [bounds(piece.polygon) for piece in pieces]
    return sum(_intersection(box, figure.box) for box in boxes if _home(box, [figure]) == 0) / area


def _whole_lines(block: list[Any]) -> list[Any]:
    """A block's pieces joined into whole lines, top to bottom."""
    boxes = [bounds(piece.polygon) for piece in block]
    lines = [joined([block[i] for i in group]) for group in line_groups(boxes)]
    return reading_order(lines, lambda line: bounds(line.polygon))


def _typed_runs(lines: list[Any], texts: Sequence[LayoutBox]) -> Iterator[list[Any]]:
    """A block's lines cut where the layout box holding them changes (a title above its paragraph)."""
    run: list[Any] = []
    home: int | None = None
    for line in lines:
        found = _home(bounds(line.polygon), texts)
        if run and found != home:
            yield run
            run = []
        run.append(line)
        home = found
    if run:
        yield run


def _home(box: Bounds, boxes: Sequence[LayoutBox]) -> int | None:
    """The index of the layout box holding most of `box` (more than `INSIDE` of its area), if any."""
    area = max((box[2] - box[0]) * (box[3] - box[1]), 1e-9)
    shares = [_intersection(box, other.box) / area for other in boxes]
    best = max(range(len(shares)), key=shares.__getitem__, default=None)
    return best if best is not None and shares[best] > INSIDE else None


def _intersection(a: Bounds, b: Bounds) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _block_type(lines: list[Any], texts: Sequence[LayoutBox]) -> str:
    """The type of the layout box holding the block's first line, else `paragraph` (also for a text box
    of a non-text type)."""
    home = _home(bounds(lines[0].polygon), texts)
    found = TEXT_BLOCK if home is None else texts[home].region_type
    return TEXT_BLOCK if found in NON_TEXT else found


def _ordered(blocks: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """Blocks in the XY-cut's order, headers first and footers last."""
    return sorted(blocks, key=lambda block: {FIRST: 0, LAST: 2}.get(block[0], 1))


def _numbered(blocks: list[tuple[str, list[Any]]]) -> Iterator[AnnotatedRegion]:
    """Each block as a region (its lines' box) followed by its lines, with ids in reading order."""
    line_number = 0
    for block_number, (region_type, members) in enumerate(blocks, start=1):
        block_id = f"b{block_number:04d}"
        if region_type in NON_TEXT:
            (figure,) = members
            x0, y0, x1, y1 = figure.box
            corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
            yield AnnotatedRegion(block_id, corners, region_type, round(float(figure.confidence), 4))
            continue
        lines = []
        for line in members:
            line_number += 1
            lines.append(
                AnnotatedRegion(
                    f"r{line_number:04d}",
                    tuple(line.polygon),
                    LINE,
                    round(float(line.confidence), 4),
                    parent=block_id,
                )
            )
        confidence = round(sum(line.confidence or 0 for line in lines) / len(lines), 4)
        outline = bounding_box(line.polygon for line in lines)
        yield AnnotatedRegion(block_id, outline, region_type, confidence)
        yield from lines


def lines_of(structure: Sequence[AnnotatedRegion]) -> list[AnnotatedRegion]:
    """The text lines of a structure, in reading order."""
    return [region for region in structure if region.region_type == LINE]


def blocks_of(structure: Sequence[AnnotatedRegion]) -> list[AnnotatedRegion]:
    """The blocks of a structure (text and non-text), in reading order."""
    return [region for region in structure if region.region_type != LINE]


def text_regions(structure: Sequence[AnnotatedRegion]) -> list[AnnotatedRegion]:
    """A structure without its non-text blocks: what the text outputs (`ocr.json`) hold."""
    return [region for region in structure if region.region_type not in NON_TEXT]


def filtered(
    structure: Sequence[AnnotatedRegion], keep: Callable[[AnnotatedRegion], bool]
) -> list[AnnotatedRegion]:
    """The structure with the lines `keep` accepts; a text block left without lines goes, a non-text block
    stays when `keep` accepts it."""
    kept_lines = {region.id for region in lines_of(structure) if keep(region)}
    holding = {region.parent for region in structure if region.id in kept_lines}
    return [
        region
        for region in structure
        if region.id in kept_lines
        or region.id in holding
        or (region.region_type in NON_TEXT and keep(region))
    ]


def with_text(structure: Sequence[AnnotatedRegion], read: Sequence[AnnotatedRegion]) -> list[AnnotatedRegion]:
    """The structure with each line's text and confidence from `read` (lines by id), each text block's text
    its lines' texts one per line; non-text blocks have none."""
    texts = {line.id: line for line in read}
    lines = [texts.get(region.id, region) for region in lines_of(structure)]
    joined_text = {
        block.id: "\n".join(line.text or "" for line in lines if line.parent == block.id)
        for block in blocks_of(structure)
        if block.region_type not in NON_TEXT
    }
    return [
        texts.get(region.id, region)
        if region.region_type == LINE
        else replace(region, text=joined_text.get(region.id))
        for region in structure
    ]
