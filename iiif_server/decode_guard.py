"""What may be decoded: raster formats the server serves, and no more pixels than IIIF_MAX_SOURCE_PIXELS.
Checked on an image's header (pyvips opens lazily), so a refused image never has its pixels decoded."""

import pyvips

from .errors import IIIFError

# The loader families (`vips-loader` up to `load`: `pngload_buffer` → `png`) of the raster formats served.
RASTER_LOADERS = frozenset({"jpeg", "png", "webp", "tiff", "gif", "jp2k", "heif"})


def loader_family(loader: str) -> str:
    """`pngload_buffer` → `png`."""
    return loader.partition("load")[0]


def check_decodable(image: pyvips.Image, max_pixels: int) -> None:
    """Raise IIIFError 501 unless a raster loader opened `image`, 413 when it has more than `max_pixels`."""
    loader = image.get("vips-loader") if image.get_typeof("vips-loader") else "unknown"
    if loader_family(loader) not in RASTER_LOADERS:
        raise IIIFError(501, f"images read by {loader} are not served (raster formats only)", "identifier")
    check_pixel_count(image.width, image.height, max_pixels)


def check_pixel_count(width: int, height: int, max_pixels: int) -> None:
    """Raise IIIFError 413 when a `width` x `height` source has more than `max_pixels` pixels."""
    if width * height > max_pixels:
        reason = f"source has {width * height} pixels, more than IIIF_MAX_SOURCE_PIXELS={max_pixels}"
        raise IIIFError(413, reason, "identifier")
