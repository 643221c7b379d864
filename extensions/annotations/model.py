"""The one container every annotation format is normalised into, and the one error type."""

from collections.abc import Iterable
from dataclasses import dataclass

from ..polygon_geometry import Ring


@dataclass(frozen=True)
class AnnotatedRegion:
    """One annotated shape: a single ring in full-image pixels (not closed), with what the source says.

    `properties` are extra `(key, value)` string pairs such as `("structure.type", "caption")` (PAGE's
    `custom` attribute); any iterable of pairs is stored as a tuple of tuples (JSON gives lists). `parent`
    is the id of the block a line belongs to, where the structure is known (the server's page structure)."""

    id: str
    polygon: Ring
    region_type: str = "text"
    confidence: float | None = None
    text: str | None = None
    source_image: str | None = None
    properties: tuple[tuple[str, str], ...] = ()
    parent: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "properties", _pairs(self.properties))


def _pairs(properties: Iterable[Iterable[str]]) -> tuple[tuple[str, str], ...]:
    """Properties as a tuple of `(key, value)` tuples."""
    return tuple((key, value) for key, value in properties)


@dataclass(frozen=True)
class SkippedItem:
    """An element a parser left out because it has no outline at all, and why; reported, never dropped."""

    item: str
    reason: str


class ParsedRegions(list[AnnotatedRegion]):
    """A document's regions in document order (a plain list), plus `skipped`: the elements left out."""

    def __init__(self, regions: Iterable[AnnotatedRegion] = (), skipped: Iterable[SkippedItem] = ()) -> None:
        super().__init__(regions)
        self.skipped = tuple(skipped)


class AnnotationError(Exception):
    """A malformed annotation document: `item` names the annotation or element at fault."""

    def __init__(self, item: str, reason: str) -> None:
        super().__init__(item, reason)
        self.item = item
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.item}: {self.reason}"


ImageSize = tuple[int, int]
"""Width and height of the full image in pixels, needed to resolve percent coordinates."""
