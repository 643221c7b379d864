"""Page layouts: from the page size and a seed, the text blocks, their line slots and figure boxes.

Pure geometry, no fonts: a block is a rectangle in its own coordinates holding line slots (the top-left of
each line's band, its room and text height) and a Placement onto the page. Blocks keep to footprints that
do not overlap, lines in a block are parallel and `pitch` apart, so no two line polygons overlap. Lines of
a slanted or curved block are dense: a line's bounding box reaches into its neighbours' ink.
"""

import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from .placement import Placement

KINDS = ("straight", "slanted", "rotated", "curved")
KIND_SHARES = {"straight": 0.40, "slanted": 0.25, "rotated": 0.15, "curved": 0.20}
"""The share of lines of each kind a page aims at."""
LAYOUTS = ("single-column", "two-columns", "article")
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in page pixels
_NOTE_SPAN = (10.0, 18.0)  # the page width a rotated note takes, in band heights


@dataclass(frozen=True)
class LineSlot:
    """Room for one line: the top-left of its band in block coordinates, the width it may take, and the
    share of that width its text should fill; `centred` lines sit in the middle of their room."""

    x: float
    y: float
    width: float
    fill: float
    centred: bool = False


@dataclass(frozen=True)
class BlockPlan:
    """A block of parallel lines of one structure type, kind, face role and text height (`band`)."""

    structure: str  # title, heading, paragraph, caption, marginalia, header
    kind: str
    angle: float  # degrees, clockwise positive (0 for straight and curved)
    role: str  # regular, bold or italic
    band: float  # text height, ascender to descender, in pixels
    pad: float  # what line polygons add around the band
    placement: Placement  # block coordinates to page pixels
    footprint: Box  # the page box the block stays in
    lines: tuple[LineSlot, ...]


@dataclass(frozen=True)
class PageLayout:
    """A page: its layout name, blocks in reading order and figure boxes (no text in them)."""

    name: str
    width: int
    height: int
    blocks: tuple[BlockPlan, ...]
    figures: tuple[Box, ...]


def plan_page(width: int, height: int, seed: int) -> PageLayout:
    """One page layout; the same size and seed give the same layout."""
    return _Planner(width, height, np.random.default_rng(seed)).page()


class _Planner:
    """Fills columns top to bottom with blocks, choosing kinds so the page nears KIND_SHARES."""

    def __init__(self, width: int, height: int, rng: np.random.Generator) -> None:
        self.width, self.height, self.rng = width, height, rng
        self.blocks: list[BlockPlan] = []
        self.figures: list[Box] = []
        self.lines: Counter[str] = Counter()

    def page(self) -> PageLayout:
        """Header, title, then one or two columns of blocks."""
        rng, width, height = self.rng, self.width, self.height
        name = str(rng.choice(LAYOUTS))
        columns = 1 if name == "single-column" else int(rng.choice([1, 2, 2])) if name == "article" else 2
        # a column of one holds about 45 to 60 characters a line: bigger text, wider margins
        margin_x = width * (rng.uniform(0.11, 0.18) if columns == 1 else rng.uniform(0.06, 0.1))
        top, bottom = height * rng.uniform(0.04, 0.07), height * (1 - rng.uniform(0.04, 0.07))
        body = width * (rng.uniform(0.026, 0.032) if columns == 1 else rng.uniform(0.017, 0.023))
        left, right = margin_x, width - margin_x
        if rng.random() < 0.5:
            top = self.title(left, right, top, body * rng.uniform(0.6, 0.8), "header", "italic")
        if name != "single-column" or rng.random() < 0.5:
            top = self.title(left, right, top, body * rng.uniform(1.6, 2.3), "title", "bold")
        gutter = width * rng.uniform(0.03, 0.05)
        column_width = (right - left - (columns - 1) * gutter) / columns
        for column in range(columns):
            x0 = left + column * (column_width + gutter)
            self.column(x0, x0 + column_width, top, bottom, body, figures=name == "article")
        return PageLayout(name, width, height, tuple(self.blocks), tuple(self.figures))

    def kind(self, allowed: tuple[str, ...], count: int) -> str:
        """The allowed kind furthest below its share once `count` more lines are added (with some chance)."""
        total = sum(self.lines.values()) + count
        scores = {k: KIND_SHARES[k] * total - self.lines[k] + self.rng.normal(0, 1.5) for k in allowed}
        return max(scores, key=scores.__getitem__)

    def gap(self, band: float) -> float:
        """Space between blocks."""
        return band * self.rng.uniform(0.5, 1.4) + 4

    def title(self, x0: float, x1: float, y: float, band: float, structure: str, role: str) -> float:
        """A straight, centred title or running header across the page; returns the y below it."""
        count = 1 if structure == "header" else int(self.rng.integers(1, 3))
        fills = [self.rng.uniform(0.4, 0.9)] * count
        block = self.block(structure, "straight", role, band, x0, x1, y, count, True, fills)
        self.commit(block)
        return block.footprint[3] + self.gap(band) * 1.5

    def column(self, x0: float, x1: float, y: float, bottom: float, body: float, figures: bool) -> None:
        """Blocks one after another down the column until it is full."""
        rng = self.rng
        previous = ""
        while bottom - y > 2 * body:
            rotated_due = KIND_SHARES["rotated"] * (sum(self.lines.values()) + 4) - self.lines["rotated"]
            roll = rng.random()
            if figures and previous != "figure" and roll < 0.3 and bottom - y > 0.3 * self.height:
                y, previous = self.figure(x0, x1, y, bottom, body), "figure"
                continue
            if previous == "paragraph" and roll < 0.45:
                row = [self.heading(x0, x1, y, body)]
            elif rotated_due > 0.5 and roll < 0.8:
                row = self.notes(x0, x1, y, body)
            else:
                row = []
            if not row or max(block.footprint[3] for block in row) > bottom:  # a paragraph shrinks to fit
                row = [block for block in [self.paragraph(x0, x1, y, bottom, body)] if block is not None]
            if not row:
                return
            for block in row:
                self.commit(block)
            y, previous = max(block.footprint[3] for block in row) + self.gap(body), row[0].structure

    def heading(self, x0: float, x1: float, y: float, body: float) -> BlockPlan:
        """A one-line heading in bold, mostly straight."""
        kind = "slanted" if self.rng.random() < 0.3 else "straight"
        band = body * self.rng.uniform(1.1, 1.4)
        return self.block(
            "heading", kind, "bold", band, x0, x1, y, 1, False, fills=[self.rng.uniform(0.3, 0.7)]
        )

    def figure(self, x0: float, x1: float, y: float, bottom: float, body: float) -> float:
        """A figure box with a caption under it (straight, slanted or rotated), where both fit; returns the
        y below."""
        rng = self.rng
        caption = self.short_block(x0, x1, y, body * 0.85, "caption", KINDS[:3])
        space = bottom - y - (caption.footprint[3] - y) - body * 0.5
        height = min(self.height * rng.uniform(0.1, 0.22), space)
        if height < self.height * 0.06:
            return y
        width = (x1 - x0) * rng.uniform(0.5, 0.95)
        left = x0 + (x1 - x0 - width) * rng.uniform(0, 1)
        self.figures.append((left, y, left + width, y + height))
        caption = _moved(caption, height + body * 0.5)
        self.commit(caption)
        return caption.footprint[3] + self.gap(body)

    def paragraph(self, x0: float, x1: float, y: float, bottom: float, body: float) -> BlockPlan | None:
        """A paragraph of 2 to 9 lines, straight, slanted or curved; where the column ends, fewer lines, or
        straight ones when no line of its kind fits."""
        rng = self.rng
        count = int(rng.integers(2, 10))
        kind = self.kind(("straight", "slanted", "curved"), count)
        fills = [rng.uniform(0.88, 1.0) for _ in range(count - 1)] + [rng.uniform(0.25, 0.8)]
        indent = body * rng.uniform(0, 2.5) if rng.random() < 0.5 else 0.0
        for option in dict.fromkeys((kind, "straight")):
            for lines in range(count, 0, -1):
                block = self.block(
                    "paragraph", option, "regular", body, x0, x1, y, lines, False, fills[-lines:], indent
                )
                if block.footprint[3] <= bottom:
                    return block
        return None

    def notes(self, x0: float, x1: float, y: float, body: float) -> list[BlockPlan]:
        """Rotated marginal notes side by side: two where the column has room for them, else one."""
        count = 2 if x1 - x0 > 2 * _NOTE_SPAN[1] * body + body else 1
        share = (x1 - x0 - (count - 1) * body) / count
        return [
            self.short_block(left, left + share, y, body, "marginalia", ("rotated",))
            for left in (x0 + n * (share + body) for n in range(count))
        ]

    def short_block(
        self, x0: float, x1: float, y: float, band: float, structure: str, kinds: tuple[str, ...]
    ) -> BlockPlan:
        """A caption or marginal note: one to three short lines, centred; a rotated one takes 10 to 18 band
        heights of the room x0..x1 (about 15 to 30 characters a line)."""
        rng = self.rng
        count = int(rng.integers(1, 4))
        kind = self.kind(kinds, count)
        span = (x1 - x0) * rng.uniform(0.6, 1.0)
        if kind == "rotated":
            span = min(x1 - x0, band * rng.uniform(*_NOTE_SPAN))
        fills = [rng.uniform(0.75, 1.0) for _ in range(count)]
        role = "italic" if structure == "caption" or rng.random() < 0.5 else "regular"
        return self.block(structure, kind, role, band, x0, x0 + span, y, count, True, fills, room=x1)

    def block(
        self,
        structure: str,
        kind: str,
        role: str,
        band: float,
        x0: float,
        x1: float,
        y: float,
        count: int,
        centred: bool,
        fills: list[float],
        indent: float = 0.0,
        room: float | None = None,
    ) -> BlockPlan:
        """`count` lines of `kind` whose footprint starts at `y` and spans x0..x1 (a rotated block may move
        right up to `room`)."""
        rng = self.rng
        pad = max(2.0, round(band * 0.08))
        pitch = band + 2 * pad + band * rng.uniform(0.04, 0.4) + 2
        height = (count - 1) * pitch + band + 2 * pad
        span = x1 - x0
        angle = 0.0
        if kind in ("slanted", "rotated"):
            angle = rng.uniform(2, 7) if kind == "slanted" else rng.uniform(8, 25)
            angle *= rng.choice([-1, 1])
            cos, sin = math.cos(math.radians(angle)), abs(math.sin(math.radians(angle)))
            width = (span - height * sin) / cos
            if width < 4 * band:  # too steep for the room: settle for a gentler slant
                return self.block(structure, "straight", role, band, x0, x1, y, count, centred, fills, indent)
            footprint_width, footprint_height = span, width * sin + height * cos
            shift = rng.uniform(0, max(0.0, (room or x1) - x1))
            centre = (x0 + shift + footprint_width / 2, y + footprint_height / 2)
            placement = Placement.rotation(angle, (width / 2, height / 2), centre)
            footprint = (x0 + shift, y, x0 + shift + footprint_width, y + footprint_height)
        elif kind == "curved":
            width = span
            amplitude = band * rng.uniform(0.3, 0.8)
            placement = Placement(
                (1.0, 0.0, x0, 0.0, 1.0, y + amplitude),
                amplitude,
                span * rng.uniform(0.7, 2.0),
                rng.uniform(0, 2 * math.pi),
            )
            footprint = (x0, y, x1, y + height + 2 * amplitude)
        else:
            width = span
            placement = Placement((1.0, 0.0, x0, 0.0, 1.0, y))
            footprint = (x0, y, x1, y + height)
        room_width = width - 2 * pad
        slots = tuple(
            LineSlot(
                pad + (indent if n == 0 else 0.0),
                pad + n * pitch,
                room_width - (indent if n == 0 else 0.0),
                fill,
                centred,
            )
            for n, fill in enumerate(fills)
        )
        return BlockPlan(structure, kind, angle, role, band, pad, placement, footprint, slots)

    def commit(self, block: BlockPlan) -> None:
        """Keep the block and count its lines."""
        self.blocks.append(block)
        self.lines[block.kind] += len(block.lines)


def _moved(block: BlockPlan, dy: float) -> BlockPlan:
    """The block `dy` pixels further down the page."""
    a, b, c, d, e, f = block.placement.matrix
    x0, y0, x1, y1 = block.footprint
    placement = replace(block.placement, matrix=(a, b, c, d, e, f + dy))
    return replace(block, placement=placement, footprint=(x0, y0 + dy, x1, y1 + dy))
