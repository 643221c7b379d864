"""Whole lines from the pieces the detector finds: pieces on one baseline with a small gap are one line.

The detector cuts a typed line where the typist left a double space after a full stop; the pieces share a
baseline and lie a few character widths apart. Joining is asked only within one block of the XY-cut, so
the pieces of two columns are never joined. Pure geometry on `x0, y0, x1, y1` boxes.
"""

from collections.abc import Callable, Sequence

from .polygon_geometry import Bounds

JOIN_GAP = 2.5
"""The widest gap joined, in heights of the shorter piece (a double space is under one)."""
INSIDE = 0.5
"""A piece more than this share of whose box lies inside another's is part of that line."""
SAME_BASELINE = 0.5
"""Pieces are on one baseline when their bottoms differ by less than this share of the shorter height and
they overlap vertically by more than it."""


def line_groups(boxes: Sequence[Bounds]) -> list[list[int]]:
    """The indices of `boxes` grouped into whole lines, each group left to right, groups in input order of
    their first piece."""
    groups = overlapping_groups(boxes, lambda a, b: same_line(boxes[a], boxes[b]))
    return [sorted(group, key=lambda index: boxes[index][0]) for group in groups]


def overlapping_groups(boxes: Sequence[Bounds], joins: Callable[[int, int], bool]) -> list[list[int]]:
    """The indices of `boxes` in groups joined by `joins(a, b)`, asked only of pairs whose rows overlap;
    groups and their members in index order."""
    parent = list(range(len(boxes)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    order = sorted(range(len(boxes)), key=lambda index: boxes[index][1])
    for position, a in enumerate(order):
        for b in order[position + 1 :]:
            if boxes[b][1] >= boxes[a][3]:
                break  # this and every later piece lie wholly below `a`: no overlap, no joining
            if joins(a, b):
                parent[root(b)] = root(a)
    groups: dict[int, list[int]] = {}
    for index in range(len(boxes)):
        groups.setdefault(root(index), []).append(index)
    return list(groups.values())


def same_line(a: Bounds, b: Bounds) -> bool:
    """Whether two pieces are one line: on one baseline with a gap across under `JOIN_GAP` heights, or the
    smaller mostly inside the larger (a word found again inside its line)."""
    height = min(a[3] - a[1], b[3] - b[1])
    if height <= 0:
        return False
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    gap = max(a[0], b[0]) - min(a[2], b[2])
    baseline = abs(a[3] - b[3]) < SAME_BASELINE * height and overlap > SAME_BASELINE * height
    return (baseline and gap < JOIN_GAP * height) or _inside(a, b) or _inside(b, a)


def _inside(inner: Bounds, outer: Bounds) -> bool:
    """Whether more than `INSIDE` of the box `inner` lies inside `outer`."""
    across = max(0.0, min(inner[2], outer[2]) - max(inner[0], outer[0]))
    down = max(0.0, min(inner[3], outer[3]) - max(inner[1], outer[1]))
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return area > 0 and across * down > INSIDE * area
