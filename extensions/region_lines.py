"""How `{region}/ocr` splits a region into lines (`?lines=one|auto|detect`) and the rule `auto` follows: a
region whose detected text forms one row is one line, read across its whole width."""

from collections.abc import Sequence
from typing import Literal, cast

from iiif_server.errors import IIIFError

LineMode = Literal["one", "auto", "detect"]
LINE_MODES: tuple[LineMode, ...] = ("one", "auto", "detect")
ROW_OVERLAP = 0.5  # a box overlapping a row's height by more than this share of the lower one joins it
ROW_MARGIN = 0.15  # a row read as one line keeps this share of its height above and below (within the region)
ROW_FRAGMENT = 0.6  # a row at the region's edge and lower than this share of the tallest is not a line
EDGE = 0.1  # a row starting or ending this share of the tallest row's height from the region's edge is at it

PixelBox = tuple[int, int, int, int]
"""x0, y0, x1, y1 in crop pixels."""


def line_mode(text: str | None) -> LineMode:
    """The `lines` query parameter: `one` reads the whole region as one line, `detect` each line the detector
    finds in it, `auto` (the default) one or the other by the rows found (`boxes_to_read`); else 400."""
    if text is None:
        return "auto"
    if text not in LINE_MODES:
        raise IIIFError(400, f"lines must be one of {', '.join(LINE_MODES)}, not {text!r}", "lines")
    return cast(LineMode, text)


def rows(boxes: Sequence[PixelBox]) -> list[list[PixelBox]]:
    """The boxes in rows of text, top to bottom: a box joins the row above when their vertical extents overlap
    by more than ROW_OVERLAP of the lower one (words of one line, or pieces of one line the detector split,
    share a row; the next line overlaps it little or not at all); left to right in a row."""
    grouped: list[list[PixelBox]] = []
    for box in sorted(boxes, key=lambda box: box[1]):
        if grouped and _overlap(span(grouped[-1]), (box[1], box[3])) > ROW_OVERLAP:
            grouped[-1].append(box)
        else:
            grouped.append([box])
    return [sorted(row) for row in grouped]


def span(row: Sequence[PixelBox]) -> tuple[int, int]:
    """The top and bottom of a row."""
    return min(box[1] for box in row), max(box[3] for box in row)


def whole_rows(grouped: list[list[PixelBox]], height: int) -> list[list[PixelBox]]:
    """The rows but those at the region's top or bottom edge (within EDGE) and under ROW_FRAGMENT of the
    tallest row's height: the descenders or ascenders of the lines above and below that the region grazes
    (measured on typewritten pages: 0.3-0.5 of the line's row, starting 1-4 px from the edge)."""
    tallest = max(bottom - top for top, bottom in map(span, grouped))
    edge = EDGE * tallest
    return [
        row
        for row, (top, bottom) in ((row, span(row)) for row in grouped)
        if bottom - top >= ROW_FRAGMENT * tallest or (top > edge and bottom < height - edge)
    ]


def boxes_to_read(found: Sequence[PixelBox], width: int, height: int, lines: LineMode) -> list[PixelBox]:
    """The parts of a `width` x `height` region to read, given the boxes the detector found in it (none for
    `one`): each box for `detect`; for `auto` the boxes of its `whole_rows` when there are several, else one
    line: that row across the whole width (so that words the detector missed are read too) with ROW_MARGIN
    above and below. The whole region when nothing was found."""
    whole = [(0, 0, width, height)]
    if lines == "detect":
        return list(found) or whole
    kept = whole_rows(rows(found), height) if found else []
    if len(kept) > 1:
        return [box for row in kept for box in row]
    if not kept:
        return whole
    top, bottom = span(kept[0])
    margin = round(ROW_MARGIN * (bottom - top))
    return [(0, max(0, top - margin), width, min(height, bottom + margin))]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> float:
    """How much two vertical extents overlap, as a share of the lower one."""
    return (min(a[1], b[1]) - max(a[0], b[0])) / max(1, min(a[1] - a[0], b[1] - b[0]))
