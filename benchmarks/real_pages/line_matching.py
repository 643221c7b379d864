"""Which found line is which true line: one-to-one, greedy by overlap, by baseline coverage or polygon IoU.

A found line holds a true line when at least half the length of the true baseline lies inside the found
polygon, grown by a quarter of its thickness: a tight polygon around the ink of a skewed line often runs
just above the baseline the ground truth drew (Stanford letters: 5-15 px under 50 px tall lines, which
the strict test counts as 12 of 38 lines missed). Ground-truth polygons (eScriptorium) are a median
1.0-1.3 line pitches tall, up to 2.2, so IoU alone punishes tight but correct lines; it is reported next
to the baseline criterion. The pairs that hold are taken greedily in order of their polygon IoU: the
upright box of a slanted line (Tesseract's) can hold its own baseline and the next one whole, and the IoU
tells which line is its own.
"""

from collections.abc import Callable, Sequence
from functools import lru_cache

import shapely
from shapely.geometry import LineString

from extensions.polygon_geometry import repaired

from .lines import Point, Polygon, ReadLine, TruthLine

MATCH_THRESHOLD = 0.5
BASELINE_TOLERANCE = 0.25
"""How far a found polygon is grown for the baseline test, as a share of its thickness (2·area/perimeter)."""
Pair = tuple[int, int]
"""(true line index, found line index)."""
Scores = Sequence[Sequence[float]]
"""A score per (true line, found line): rows by true line."""


def baseline_coverage(baseline: Sequence[Point], polygon: Polygon, tolerance: float = 0.0) -> float:
    """The share of the baseline's length that lies inside the polygon grown by `tolerance` times its
    thickness (0 for a degenerate polygon or baseline)."""
    line = LineString(baseline)
    if line.length == 0:
        return 0.0
    return float(line.intersection(_grown(polygon, tolerance)).length / line.length)


def polygon_iou(a: Polygon, b: Polygon) -> float:
    """Intersection over union of two polygons (0 when they do not overlap or have no area)."""
    first, second = _area(a), _area(b)
    if not first.intersects(second):
        return 0.0
    union = first.union(second).area
    return float(first.intersection(second).area / union) if union else 0.0


def greedy_pairs(
    scores: Scores, rank: Scores | None = None, threshold: float = MATCH_THRESHOLD
) -> list[Pair]:
    """One-to-one pairs (row, column) whose score is at least `threshold`, taken in order of `rank` (default:
    the score itself) and then of the score, highest first; sorted by row."""
    ranks = scores if rank is None else rank
    candidates = sorted(
        (
            (-ranks[i][j], -score, i, j)
            for i, row in enumerate(scores)
            for j, score in enumerate(row)
            if score >= threshold
        )
    )
    used_rows: set[int] = set()
    used_columns: set[int] = set()
    pairs = []
    for _, _, i, j in candidates:
        if i not in used_rows and j not in used_columns:
            used_rows.add(i)
            used_columns.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def baseline_scores(truth: Sequence[TruthLine], found: Sequence[ReadLine]) -> list[list[float]]:
    """How much of each true baseline (rows) each found polygon (columns) holds, with BASELINE_TOLERANCE."""
    return _scores(truth, found, lambda t, f: baseline_coverage(t.baseline, f.polygon, BASELINE_TOLERANCE))


def iou_scores(truth: Sequence[TruthLine], found: Sequence[ReadLine]) -> list[list[float]]:
    """The polygon IoU of each true line (rows) with each found line (columns)."""
    return _scores(truth, found, lambda t, f: polygon_iou(t.polygon, f.polygon))


def best_rows(scores: Scores, rank: Scores, columns: int) -> list[int | None]:
    """For each column, of the rows where it scores above 0 the one of highest `rank` and then score (the
    first on a tie); None where it scores 0 on every row."""
    best: list[int | None] = []
    for j in range(columns):
        rows = [(rank[i][j], scores[i][j], -i) for i in range(len(scores)) if scores[i][j] > 0]
        best.append(-max(rows)[2] if rows else None)
    return best


def _scores(
    truth: Sequence[TruthLine], found: Sequence[ReadLine], score: Callable[[TruthLine, ReadLine], float]
) -> list[list[float]]:
    """The score of every (true, found) pair, rows by true line."""
    return [[score(t, f) for f in found] for t in truth]


@lru_cache(maxsize=4096)
def _area(polygon: Polygon) -> shapely.Geometry:
    """The polygon as a valid shapely area (self-intersections repaired; empty below 3 points); kept, since
    every polygon is scored against every line of the other side."""
    return repaired([polygon])


@lru_cache(maxsize=4096)
def _grown(polygon: Polygon, tolerance: float) -> shapely.Geometry:
    """The polygon's area grown by `tolerance` times its thickness, 2·area/perimeter (a long box's height)."""
    area = _area(polygon)
    if not tolerance or not area.length:
        return area
    return area.buffer(tolerance * 2 * area.area / area.length)
