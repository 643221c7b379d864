"""Pure geometry of an image request: what to cut, how big to make it, and the canonical URL path."""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from .image_request import Format, ImageRequest, Quality
from .region import RegionReference, ResolvedRegion
from .rotation import Rotation
from .settings import Limits
from .size import canonical_size, resolve_size


@dataclass(frozen=True)
class ImagePlan:
    """Everything the pixel pipeline needs, computed without touching pixels."""

    region: ResolvedRegion
    width: int
    height: int
    rotation: Rotation
    quality: Quality
    format: Format
    canonical_path: str


def plan(
    request: ImageRequest,
    width: int,
    height: int,
    limits: Limits,
    size_form: Callable[[int, int, int, int], str] = canonical_size,
) -> ImagePlan:
    """Resolve a request against a `width` x `height` image, raising IIIFError for what can't be served; the
    canonical path writes its size with `size_form` (3.0's by default). The region must be geometry: a region
    reference is a TypeError (look it up first with `looked_up`)."""
    if isinstance(request.region, RegionReference):
        kind = type(request.region).__name__
        raise TypeError(f"plan() takes geometry, not a {kind}: call looked_up() on the request first")
    region = request.region.resolve(width, height)
    out_w, out_h = resolve_size(request.size, region.box.width, region.box.height, limits, request.rotation)
    size_text = size_form(out_w, out_h, region.box.width, region.box.height)
    canonical_path = "/".join(
        (
            quote(request.identifier, safe=""),
            quote(region.canonical, safe=":,;!"),
            size_text,
            request.rotation.canonical,
            f"{request.quality}.{request.format}",
        )
    )
    return ImagePlan(region, out_w, out_h, request.rotation, request.quality, request.format, canonical_path)
