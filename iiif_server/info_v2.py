"""The IIIF Image API 2.1 info.json of an image (pure), from the same sizes, tiles and limits as 3.0's."""

from typing import Any

from .info import EXTRA_FORMATS, PROTOCOL, limit_fields, preferred_sizes, tiles
from .settings import Limits
from .sources import SourceImage

CONTEXT_V2 = "http://iiif.io/api/image/2/context.json"
PROFILE_URL_V2 = "http://iiif.io/api/image/2/level2.json"
JSONLD_MEDIA_TYPE_V2 = f'application/ld+json;profile="{CONTEXT_V2}"'
FORMATS_V2 = ["jpg", "png", *EXTRA_FORMATS]
QUALITIES_V2 = ["default", "color", "gray", "bitonal"]
# Beyond the level 2 profile (2.1 names): what the same pipeline does for 3.0's extraFeatures, and `square`.
SUPPORTS_V2 = [
    "canonicalLinkHeader",
    "mirroring",
    "profileLinkHeader",
    "regionSquare",
    "rotationArbitrary",
    "sizeAboveFull",
]


def linked_data_service(service: dict[str, Any]) -> dict[str, Any]:
    """A 3.0 service entry written the 2.1 way: `id` and `type` as `@id` and `@type`."""
    renamed = {"id": "@id", "type": "@type"}
    return {renamed.get(key, key): value for key, value in service.items()}


def build_info_v2(
    service_id: str,
    source: SourceImage,
    limits: Limits,
    tile_size: int,
    services: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The 2.1 info.json document for one image served at `service_id`."""
    description = {
        "formats": FORMATS_V2,
        "qualities": QUALITIES_V2,
        "supports": SUPPORTS_V2,
        **limit_fields(limits),
    }
    info: dict[str, Any] = {
        "@context": CONTEXT_V2,
        "@id": service_id,
        "protocol": PROTOCOL,
        "width": source.width,
        "height": source.height,
        "sizes": preferred_sizes(source, limits),
        "tiles": tiles(source, tile_size),
        "profile": [PROFILE_URL_V2, description],
    }
    if services:
        info["service"] = [linked_data_service(service) for service in services]
    return info
