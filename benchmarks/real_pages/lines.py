"""The two kinds of line the benchmark compares: ground-truth lines and lines an OCR engine read."""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from extensions.annotations import AnnotatedRegion
from extensions.polygon_geometry import Point
from extensions.polygon_geometry import Ring as Polygon

LINE_TYPES = ("TextLine", "line")
"""Region types of a line: ALTO's element, and the text granularity of the server's annotations."""


@dataclass(frozen=True)
class TruthLine:
    """A ground-truth line: its text as scored, outline, baseline, and whether it counts in the text figures
    (signatures, handwriting and struck-out text do not)."""

    id: str
    text: str
    polygon: Polygon
    baseline: tuple[Point, ...]
    scored: bool


@dataclass(frozen=True)
class ReadLine:
    """A line an engine found: its outline and the text it read there (NFC)."""

    text: str
    polygon: Polygon


@dataclass(frozen=True)
class PageReading:
    """An engine's lines of one page in the order it gives them, and the wall-clock seconds it took."""

    lines: tuple[ReadLine, ...]
    seconds: float


def read_lines(regions: Iterable[AnnotatedRegion]) -> tuple[ReadLine, ...]:
    """The text lines among parsed regions (ALTO TextLines, or the server's line annotations), in order."""
    return tuple(
        ReadLine(unicodedata.normalize("NFC", region.text or ""), region.polygon)
        for region in regions
        if region.region_type in LINE_TYPES
    )
