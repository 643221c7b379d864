"""Output encoders: one pyvips save call and one media type per IIIF format."""

import re
from dataclasses import dataclass

import pyvips

from .errors import bad_request
from .image_request import Format

MEDIA_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "tif": "image/tiff",
    "gif": "image/gif",
}
ALPHA_FORMATS = frozenset({"png", "webp", "tif", "gif"})
WHITE = (255, 255, 255)
_HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6})")


def parse_background(text: str | None) -> tuple[int, int, int]:
    """The `?bg=RRGGBB` fill for pixels a format without alpha cannot leave transparent (white by default)."""
    if not text:
        return WHITE
    match = _HEX_COLOUR.fullmatch(text)
    if not match:
        raise bad_request("bg", f"{text!r} is not a RRGGBB hex colour")
    digits = match.group(1)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


@dataclass(frozen=True)
class EncodeOptions:
    """Encoder settings taken from the server settings."""

    jpeg_quality: int = 85
    webp_quality: int = 80


def fill_colour(image: pyvips.Image, background: tuple[int, int, int]) -> list[float]:
    """The background as the image's colour bands: RGB for colour images, for grey ones the grey that
    the `gray` quality turns it into."""
    colour_bands = image.bands - 1 if image.hasalpha() else image.bands
    if colour_bands >= 3:
        return [float(v) for v in background]
    pixel = pyvips.Image.black(1, 1).new_from_image(list(background)).copy(interpretation="srgb")
    return [pixel.colourspace("b-w")(0, 0)[0]] * colour_bands


def encode(
    image: pyvips.Image, fmt: Format, options: EncodeOptions, background: tuple[int, int, int]
) -> bytes:
    """Encode an 8-bit image; formats without alpha get it flattened onto `background`."""
    if fmt not in ALPHA_FORMATS and image.hasalpha():
        image = image.flatten(background=fill_colour(image, background))
    if fmt == "jpg":
        return image.jpegsave_buffer(Q=options.jpeg_quality, keep="none")
    if fmt == "png":
        # No row filter; zlib level 3 (10 % faster than level 4 on RGB lines of a scan, 3-4 % more bytes),
        # level 2 with alpha: a masked line's 4 bytes a pixel then take 1.11x an RGB line's time to encode,
        # not 1.25x, for 7 % more bytes (benchmarks/masks_vs_rects/png_settings.py). Lossless at any level.
        return image.pngsave_buffer(compression=2 if image.hasalpha() else 3, filter="none", keep="none")
    if fmt == "webp":
        return image.webpsave_buffer(Q=options.webp_quality, effort=2, keep="none")
    if fmt == "tif":
        return image.tiffsave_buffer(compression="deflate", keep="none")
    return image.gifsave_buffer(keep="none")
