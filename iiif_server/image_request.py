"""An image request's five parameters as one frozen value, parsed from the URL's path segments."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal, cast

from .errors import IIIFError, bad_request
from .region import ParsedRegion, RegionParser, RegionReference, parse_region
from .rotation import Rotation, parse_rotation
from .size import Size, parse_size

Quality = Literal["default", "color", "gray", "bitonal"]
Format = Literal["jpg", "png", "webp", "tif", "gif"]

QUALITIES: tuple[Quality, ...] = ("default", "color", "gray", "bitonal")
FORMATS: tuple[Format, ...] = ("jpg", "png", "webp", "tif", "gif")
# Formats the IIIF specification names that this server does not write.
UNOFFERED_FORMATS = frozenset({"jp2", "pdf"})


@dataclass(frozen=True)
class ImageRequest:
    """`{identifier}/{region}/{size}/{rotation}/{quality}.{format}`, parsed."""

    identifier: str
    region: ParsedRegion
    size: Size
    rotation: Rotation
    quality: Quality
    format: Format


def parse_quality_format(text: str) -> tuple[Quality, Format]:
    """Split `quality.format` and check both; an unknown value is a 400, a known unoffered format a 501."""
    quality, dot, fmt = text.rpartition(".")
    if not dot:
        raise bad_request("format", f"{text!r} has no .format suffix")
    if quality not in QUALITIES:
        raise bad_request("quality", f"unknown quality {quality!r}")
    if fmt in UNOFFERED_FORMATS:
        raise IIIFError(501, f"format {fmt!r} is not offered by this server", "format")
    if fmt not in FORMATS:
        raise bad_request("format", f"unknown format {fmt!r}")
    return cast(Quality, quality), cast(Format, fmt)


def parse_image_request(
    identifier: str,
    region: str,
    size: str,
    rotation: str,
    quality_format: str,
    syntaxes: Mapping[str, RegionParser] | None = None,
    size_parser: Callable[[str], Size] = parse_size,
) -> ImageRequest:
    """Parse the decoded path segments of an image request (the size with `size_parser`: 3.0's by default)."""
    quality, fmt = parse_quality_format(quality_format)
    return ImageRequest(
        identifier, parse_region(region, syntaxes), size_parser(size), parse_rotation(rotation), quality, fmt
    )


def looked_up(request: ImageRequest) -> ImageRequest:
    """The request with a region reference (`pred:`) replaced by the geometry it names, ready for `plan()`;
    blocking, as the lookup may run a model. Other requests come back as they are."""
    region = request.region
    return replace(request, region=region.lookup()) if isinstance(region, RegionReference) else request
