"""Recursive XY-cut: boxes on a page grouped into blocks and put in reading order, columns before rows.

A region is cut at every vertical gap first (columns, read left to right) when two sides or more are
columns of text (several rows, not narrow), else at its widest horizontal gaps (rows, read top to bottom);
a region that no gap cuts is one block. A single row beside a column (a date beside an address) or a
narrow part (a list's numbers, a page number) is no column but goes with the column beside it, and a gap
between the pieces of a single row is no column either, so the pieces of a line stay in one block. Pure
geometry on `x0, y0, x1, y1` boxes in page pixels.
"""

import statistics
from collections.abc import Sequence

from .polygon_geometry import Bounds, reading_order

COLUMN_GAP = 0.5
"""The narrowest gap between columns, in median box heights (a gutter is wider, a word space in a
detected line never cuts the whole region)."""
BLOCK_GAP = 1.5
"""Consecutive rows of a column whose gap is under this many median box heights are one block."""
WIDEST = 0.8
"""A region is cut across at the gaps at least this share of its widest one."""
NARROW = 4.0
"""A part narrower than this many median box heights is no column (a list's numbers, a margin's marks)."""
MULTI_ROW = 2.5
"""A group taller than this many median box heights holds several rows even where their boxes touch."""


def xy_cut(boxes: Sequence[Bounds]) -> list[list[int]]:
    """The indices of `boxes` in blocks, blocks and boxes in reading order (boxes within a block: rows top
    to bottom, left to right in a row)."""
    if not boxes:
        return []
    height = statistics.median(y1 - y0 for _, y0, _, y1 in boxes) or 1.0
    return _Cutter(boxes, height).cut(list(range(len(boxes))))


class _Cutter:
    """One page's boxes and its median box height, cut recursively."""

    def __init__(self, boxes: Sequence[Bounds], height: float) -> None:
        self.boxes = boxes
        self.height = height

    def cut(self, group: list[int]) -> list[list[int]]:
        """Blocks of `group` in reading order. Each cut across takes the gaps within `WIDEST` of the widest,
        so nesting grows with the logarithm of the gaps' range, never with the number of rows."""
        columns = [part for _, part in self.split(group, 0, COLUMN_GAP * self.height)]
        if sum(self.is_column(column) for column in columns) > 1:
            return [block for column in self.attached(columns) for block in self.cut(column)]
        rows = self.split(group, 1, 0.0)
        if len(rows) == 1:
            return [reading_order(group, lambda index: self.boxes[index])]
        rows = self.widest(rows)
        blocks: list[list[int]] = []
        previous: list[list[int]] = []
        for gap, row in rows:
            found = self.cut(row)
            if (
                blocks
                and len(found) == 1
                and len(previous) == 1
                and self.continues(previous[0], found[0], gap)
            ):
                blocks[-1] = blocks[-1] + found[0]
                previous = [blocks[-1]]
                continue
            blocks += found
            previous = found
        return blocks

    def widest(self, rows: list[tuple[float, list[int]]]) -> list[tuple[float, list[int]]]:
        """Rows joined again except at the widest gaps (within `WIDEST` of the widest): a title's gap cuts
        first, so that the columns below it are found before their lines' gaps cut across both."""
        cut = WIDEST * max(gap for gap, _ in rows[1:])
        parts = [rows[0]]
        for gap, row in rows[1:]:
            if gap >= cut:
                parts.append((gap, row))
            else:
                parts[-1] = (parts[-1][0], parts[-1][1] + row)
        return parts

    def attached(self, parts: list[list[int]]) -> list[list[int]]:
        """The columns, each part that is no column (a page number beside a running title) joined to the
        column on its left, or on its right when it has none."""
        columns: list[list[int]] = []
        waiting: list[int] = []
        for part in parts:
            if not self.is_column(part):
                if columns:
                    columns[-1] = columns[-1] + part
                else:
                    waiting += part
                continue
            columns.append(waiting + part)
            waiting = []
        return columns

    def is_column(self, group: list[int]) -> bool:
        """Whether a part of a region cut across is a column of text: several rows, wider than `NARROW`."""
        left, right = self.span(group)
        return right - left > NARROW * self.height and self.rows_in(group)

    def rows_in(self, group: list[int]) -> bool:
        """Whether a group holds more than one row."""
        top = min(self.boxes[index][1] for index in group)
        bottom = max(self.boxes[index][3] for index in group)
        return bottom - top > MULTI_ROW * self.height or len(self.split(group, 1, 0.0)) > 1

    def continues(self, above: list[int], below: list[int], gap: float) -> bool:
        """Whether the block `below` goes on from `above`: a small gap and overlapping spans across."""
        a0, a1 = self.span(above)
        b0, b1 = self.span(below)
        overlap = min(a1, b1) - max(a0, b0)
        return gap < BLOCK_GAP * self.height and overlap > 0.5 * min(a1 - a0, b1 - b0)

    def span(self, group: list[int]) -> tuple[float, float]:
        """The left and right edge of a group."""
        return min(self.boxes[i][0] for i in group), max(self.boxes[i][2] for i in group)

    def split(self, group: list[int], axis: int, min_gap: float) -> list[tuple[float, list[int]]]:
        """The group cut at every gap wider than `min_gap` along `axis` (0: x, 1: y), in order, each part
        with the gap before it (0 for the first)."""
        ordered = sorted(group, key=lambda index: self.boxes[index][axis])
        parts: list[tuple[float, list[int]]] = []
        reach = float("-inf")
        for index in ordered:
            start, end = self.boxes[index][axis], self.boxes[index][axis + 2]
            if parts and start - reach > min_gap:
                parts.append((start - reach, [index]))
            elif parts:
                parts[-1][1].append(index)
            else:
                parts.append((0.0, [index]))
            reach = max(reach, end)
        return parts
