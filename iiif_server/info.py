"""The info.json document of an image (pure: built from the source's levels and the settings)."""

from typing import Any

from .settings import Limits
from .sources import SourceImage

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROTOCOL = "http://iiif.io/api/image"
PROFILE_URL = "http://iiif.io/api/image/3/level2.json"
JSONLD_MEDIA_TYPE = f'application/ld+json;profile="{CONTEXT}"'
EXTRA_FORMATS = ["webp", "tif", "gif"]
EXTRA_QUALITIES = ["color", "gray", "bitonal"]
EXTRA_FEATURES = [
    "canonicalLinkHeader",
    "mirroring",
    "profileLinkHeader",
    "rotationArbitrary",
    "sizeUpscaling",
]
SMALLEST_SIZE = 64


def _within(width: int, height: int, limits: Limits) -> bool:
    return (
        (not limits.max_width or width <= limits.max_width)
        and (not limits.max_height or height <= limits.max_height)
        and (not limits.max_area or width * height <= limits.max_area)
    )


def preferred_sizes(source: SourceImage, limits: Limits) -> list[dict[str, int]]:
    """Whole-image sizes that are cheap to serve: halvings of the full size, smallest first."""
    sizes = []
    factor = 1
    while True:
        width = -(-source.width // factor)
        height = -(-source.height // factor)
        if _within(width, height, limits):
            sizes.append({"width": width, "height": height})
        if max(width, height) <= SMALLEST_SIZE:
            break
        factor *= 2
    return sizes[::-1]


def scale_factors(source: SourceImage, tile_size: int) -> list[int]:
    """Powers of two from 1 until the whole image fits in one tile."""
    factors = [1]
    while max(source.width, source.height) / factors[-1] > tile_size:
        factors.append(factors[-1] * 2)
    return factors


def tiles(source: SourceImage, tile_size: int) -> list[dict[str, Any]]:
    """The one tile size with its scale factors: the file's own tiles where it has a native grid (a tiled
    JPEG 2000), else the server's, square."""
    width, height = source.native_tile or (tile_size, tile_size)
    return [{"width": width, "height": height, "scaleFactors": scale_factors(source, max(width, height))}]


def limit_fields(limits: Limits) -> dict[str, int]:
    """`maxWidth`, `maxHeight` and `maxArea`, each where that limit is set."""
    fields = {"maxWidth": limits.max_width, "maxHeight": limits.max_height, "maxArea": limits.max_area}
    return {key: limit for key, limit in fields.items() if limit}


def build_info(
    service_id: str,
    source: SourceImage,
    limits: Limits,
    tile_size: int,
    services: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The info.json document for one image served at `service_id`."""
    info: dict[str, Any] = {
        "@context": CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": PROTOCOL,
        "profile": "level2",
        "width": source.width,
        "height": source.height,
        "sizes": preferred_sizes(source, limits),
        "tiles": tiles(source, tile_size),
        **limit_fields(limits),
    }
    info["extraFormats"] = EXTRA_FORMATS
    info["extraQualities"] = EXTRA_QUALITIES
    info["extraFeatures"] = EXTRA_FEATURES
    if services:
        info["service"] = services
    return info
