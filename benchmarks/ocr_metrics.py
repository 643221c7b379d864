"""OCR scores against ground truth: lines matched by their boxes' IoU; character and word error rates are
those of the model evaluation (`models.evaluation.text_metrics`, jiwer on whitespace-normalised text)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from extensions.polygon_geometry import bounds
from models.evaluation.text_metrics import cer, wer

__all__ = ["Box", "Detection", "box_of", "cer", "iou", "match_boxes", "wer"]

Box = tuple[float, float, float, float]
"""x, y, width, height."""


def box_of(polygon: Iterable[tuple[float, float]]) -> Box:
    """The bounding box of a polygon."""
    x0, y0, x1, y1 = bounds(polygon)
    return (x0, y0, x1 - x0, y1 - y0)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when they do not overlap)."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    return overlap / (a[2] * a[3] + b[2] * b[3] - overlap)


@dataclass(frozen=True)
class Detection:
    """How well found boxes match the true ones: `pairs` are (truth index, found index), one-to-one."""

    truth: int
    found: int
    pairs: tuple[tuple[int, int], ...]

    @property
    def recall(self) -> float:
        return len(self.pairs) / self.truth if self.truth else 1.0

    @property
    def precision(self) -> float:
        return len(self.pairs) / self.found if self.found else 1.0


def match_boxes(truth: Sequence[Box], found: Sequence[Box], threshold: float = 0.5) -> Detection:
    """Pairs with IoU at or above `threshold`, best first, each box in at most one pair."""
    candidates = sorted(
        ((iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)), reverse=True
    )
    used_truth: set[int] = set()
    used_found: set[int] = set()
    pairs = []
    for score, i, j in candidates:
        if score < threshold:
            break
        if i not in used_truth and j not in used_found:
            used_truth.add(i)
            used_found.add(j)
            pairs.append((i, j))
    return Detection(len(truth), len(found), tuple(sorted(pairs)))
