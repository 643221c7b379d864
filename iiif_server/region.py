"""The region parameter: parsed into frozen variants, each resolving to a pixel box on the image."""

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .errors import bad_request
from .numbers import parse_decimal, parse_int, round_half_up

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Box:
    """A rectangle in full-image pixels."""

    x: int
    y: int
    width: int
    height: int

    def as_text(self) -> str:
        """The `x,y,w,h` form of the box."""
        return f"{self.x},{self.y},{self.width},{self.height}"


class RegionMask(Protocol):
    """A shape inside the region's box whose outside the pipeline makes transparent or filled."""

    def rasterize(self, box: Box, out_width: int, out_height: int) -> "np.ndarray":
        """A uint8 (out_height, out_width) array: 255 inside the shape, 0 outside."""
        ...


@dataclass(frozen=True)
class ResolvedRegion:
    """A region resolved against an image: the box to cut, an optional mask and the canonical form."""

    box: Box
    canonical: str
    mask: RegionMask | None = None


class Region(Protocol):
    """A parsed region parameter; `resolve` clips it to the image or raises a 400."""

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        """The pixel box on a `width` x `height` image."""
        ...


def clip_box(x: int, y: int, w: int, h: int, width: int, height: int) -> Box:
    """Clip a requested box to the image; a box with no pixels inside the image is a 400."""
    if w <= 0 or h <= 0:
        raise bad_request("region", "width and height must be greater than zero")
    if x >= width or y >= height:
        raise bad_request("region", f"region starts outside the {width}x{height} image")
    return Box(x, y, min(w, width - x), min(h, height - y))


def canonical_box(box: Box, width: int, height: int) -> str:
    """`full` when the box is the whole image, else `x,y,w,h`."""
    return "full" if box == Box(0, 0, width, height) else box.as_text()


@dataclass(frozen=True)
class FullRegion:
    """`full`: the whole image."""

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        return ResolvedRegion(Box(0, 0, width, height), "full")


@dataclass(frozen=True)
class SquareRegion:
    """`square`: the largest centred square."""

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        side = min(width, height)
        box = Box((width - side) // 2, (height - side) // 2, side, side)
        return ResolvedRegion(box, canonical_box(box, width, height))


@dataclass(frozen=True)
class PixelRegion:
    """`x,y,w,h` in full-image pixels."""

    x: int
    y: int
    w: int
    h: int

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        box = clip_box(self.x, self.y, self.w, self.h, width, height)
        return ResolvedRegion(box, canonical_box(box, width, height))


@dataclass(frozen=True)
class PercentRegion:
    """`pct:x,y,w,h` in percent of the full image; edges are rounded half up."""

    x: float
    y: float
    w: float
    h: float

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        x0 = round_half_up(self.x * width / 100)
        y0 = round_half_up(self.y * height / 100)
        x1 = round_half_up((self.x + self.w) * width / 100)
        y1 = round_half_up((self.y + self.h) * height / 100)
        if self.w <= 0 or self.h <= 0:
            raise bad_request("region", "width and height must be greater than zero")
        box = clip_box(x0, y0, max(1, x1 - x0), max(1, y1 - y0), width, height)
        return ResolvedRegion(box, canonical_box(box, width, height))


class RegionReference(ABC):
    """A parsed region that names geometry kept elsewhere (an extension's `pred:` line), not geometry itself:
    `lookup` fetches it before planning, as `plan()` is pure geometry and never runs a model."""

    @abstractmethod
    def lookup(self) -> Region:
        """The geometric region this names (blocking: it may read caches or run a model)."""


ParsedRegion = Region | RegionReference
RegionParser = Callable[[str], ParsedRegion]


def split_numbers(text: str, count: int) -> list[str]:
    """Split `a,b,c,...` into exactly `count` parts or raise a 400."""
    parts = text.split(",")
    if len(parts) != count:
        raise bad_request("region", f"expected {count} comma-separated numbers, got {text!r}")
    return parts


def parse_region(text: str, syntaxes: Mapping[str, RegionParser] | None = None) -> ParsedRegion:
    """Parse the region segment; `syntaxes` maps extra prefixes (such as `poly:`) to their parsers."""
    if text == "full":
        return FullRegion()
    if text == "square":
        return SquareRegion()
    for prefix, parser in (syntaxes or {}).items():
        if text.startswith(prefix):
            return parser(text[len(prefix) :])
    if text.startswith("pct:"):
        x, y, w, h = (parse_decimal(p, "region") for p in split_numbers(text[4:], 4))
        return PercentRegion(x, y, w, h)
    if text and (text[0].isdigit()):
        px, py, pw, ph = (parse_int(p, "region") for p in split_numbers(text, 4))
        return PixelRegion(px, py, pw, ph)
    raise bad_request("region", f"unknown region syntax {text!r}")
