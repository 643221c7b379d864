"""Output encoders: one pyvips save call and one media type per IIIF format (OpenCV's libjpeg-turbo for a JPEG
whose pixels are already in memory)."""

import re
from dataclasses import dataclass

import numpy as np
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
    image: pyvips.Image,
    fmt: Format,
    options: EncodeOptions,
    background: tuple[int, int, int],
    in_memory: bool = False,
) -> bytes:
    """Encode an 8-bit image; formats without alpha get it flattened onto `background`. A JPEG of an image
    whose pixels are `in_memory` (a masked fill) is written from there (`jpeg_of_pixels`)."""
    if fmt not in ALPHA_FORMATS and image.hasalpha():
        image = image.flatten(background=fill_colour(image, background))
    if fmt == "jpg":
        if in_memory and image.bands in (1, 3):
            return jpeg_of_pixels(image, options.jpeg_quality)
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


def jpeg_of_pixels(image: pyvips.Image, quality: int) -> bytes:
    """The JPEG libvips' jpegsave would write (the same libjpeg-turbo settings, so the same pixels at every
    quality; a JFIF header more), by OpenCV from the image's pixels in memory: a masked block at `pct:25` then
    costs 1.2-1.3x its rectangle, not 1.4x, as libvips' second pass over the filled pixels is not made
    (benchmarks/masks_vs_rects). libvips writes it if OpenCV cannot."""
    import cv2  # the gunicorn master never loads OpenCV (tests/test_serving_training_split.py)

    pixels = np.frombuffer(image.write_to_memory(), np.uint8).reshape(image.height, image.width, image.bands)
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    if image.bands == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
        if quality >= 90:  # libvips stops subsampling the colour at quality 90
            params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    ok, encoded = cv2.imencode(".jpg", pixels, params)
    return encoded.tobytes() if ok else image.jpegsave_buffer(Q=quality, keep="none")
