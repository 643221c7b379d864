"""Average precision of typed boxes at one IoU threshold, per class: PASCAL VOC's all-point interpolation."""

from collections.abc import Sequence
from dataclasses import dataclass

from extensions.polygon_geometry import Bounds

IOU = 0.5


@dataclass(frozen=True)
class TypedBox:
    """A block on one page: its box, class and (for a prediction) score."""

    page: int
    box: Bounds
    kind: str
    score: float = 1.0


def box_iou(a: Bounds, b: Bounds) -> float:
    """Intersection over union of two upright boxes."""
    across = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - across
    return across / union if union > 0 else 0.0


def average_precision(truth: Sequence[TypedBox], found: Sequence[TypedBox], kind: str) -> float | None:
    """AP of the found boxes of `kind` against the true ones (None when there are none of it): best-scored
    first, each matched to the unmatched true box of its page with the highest IoU at or above `IOU`."""
    wanted = [t for t in truth if t.kind == kind]
    if not wanted:
        return None
    taken: set[int] = set()
    hits = []
    for box in sorted((f for f in found if f.kind == kind), key=lambda f: -f.score):
        options = [
            (box_iou(box.box, t.box), index)
            for index, t in enumerate(wanted)
            if t.page == box.page and index not in taken
        ]
        iou, index = max(options, default=(0.0, -1))
        hits.append(iou >= IOU)
        if iou >= IOU:
            taken.add(index)
    precisions, recalls, matched = [], [], 0
    for rank, hit in enumerate(hits, start=1):
        matched += hit
        precisions.append(matched / rank)
        recalls.append(matched / len(wanted))
    area, previous = 0.0, 0.0
    for position, recall in enumerate(recalls):
        area += (recall - previous) * max(precisions[position:])
        previous = recall
    return area
