"""The one container every annotation format is normalised into, and the one error type."""

from dataclasses import dataclass

Point = tuple[float, float]
Ring = tuple[Point, ...]


@dataclass(frozen=True)
class AnnotatedRegion:
    """One annotated shape: a single ring in full-image pixels (not closed), with what the source says."""

    id: str
    polygon: Ring
    region_type: str = "text"
    confidence: float | None = None
    text: str | None = None
    source_image: str | None = None


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
