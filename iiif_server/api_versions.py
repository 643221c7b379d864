"""The two Image API versions the server speaks, each as what differs between them: its path prefix, size
syntax and canonical size, info.json and profile. Everything else (parse, plan, render, access, limits,
validators, CORS) is one pipeline for both."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .image_request_v2 import canonical_size_v2, parse_size_v2
from .info import JSONLD_MEDIA_TYPE, PROFILE_URL, build_info
from .info_v2 import JSONLD_MEDIA_TYPE_V2, PROFILE_URL_V2, build_info_v2
from .route_table import IIIF_PREFIX
from .settings import Limits
from .size import Size, canonical_size, parse_size
from .sources import SourceImage

SizeParser = Callable[[str], Size]
SizeForm = Callable[[int, int, int, int], str]  # (out_w, out_h, region_w, region_h) -> canonical size
InfoBuilder = Callable[[str, SourceImage, Limits, int, list[dict[str, Any]]], dict[str, Any]]


@dataclass(frozen=True)
class ImageAPIVersion:
    """One version of the Image API as the routes serve it."""

    prefix: str
    parse_size: SizeParser
    canonical_size: SizeForm
    build_info: InfoBuilder
    profile_url: str
    jsonld_media_type: str


IMAGE_API_3 = ImageAPIVersion(
    IIIF_PREFIX, parse_size, canonical_size, build_info, PROFILE_URL, JSONLD_MEDIA_TYPE
)
IMAGE_API_2 = ImageAPIVersion(
    "/iiif/2/", parse_size_v2, canonical_size_v2, build_info_v2, PROFILE_URL_V2, JSONLD_MEDIA_TYPE_V2
)
