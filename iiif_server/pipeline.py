"""The pixel pipeline, in the specification's order: region, size, rotation, quality, format."""

import math

import numpy as np
import pyvips

from .formats import ALPHA_FORMATS, WHITE, EncodeOptions, encode, fill_colour
from .plan import ImagePlan
from .region import Box
from .rotation import Rotation
from .sources import Level, LevelOpener, SourceImage

JPEG_SHRINKS = (8, 4, 2)
FILL_IN_MEMORY_PIXELS = 1_000_000
"""Masked images up to this many pixels are filled in memory (`filled`), larger ones stream: in place, memory
is faster at every size measured (JPEG blocks, masked ÷ rectangle, streamed → in memory: 0.4 Mpx 2.02 → 1.37,
1.5 Mpx 1.90 → 1.58, 6 Mpx 1.34 → 1.06), so this bounds the memory a request holds (a 3 MB buffer, twice
that while its JPEG is written: `formats.jpeg_of_pixels`), not the time."""


def level_scale(full: int, level: int) -> float:
    """How many times smaller a level is than the full size: the power of two whose halvings, rounded down
    or up, made `level` from `full` (a pyramid of halvings: a level pixel covers 2^k full pixels exactly, also
    when a side is odd), otherwise the plain ratio."""
    ratio = full / level
    power = 2 ** round(math.log2(ratio)) if ratio >= 1 else 1
    return power if level in (full // power, -(-full // power)) else ratio


def choose_level(source: SourceImage, box: Box, out_w: int, out_h: int) -> tuple[Level, int]:
    """The smallest pyramid level (and JPEG/WebP shrink-on-load factor) still at least the output size, less
    the pixel a size rounded up may add on each side (a viewer's edge tile at scale factor 2^k asks for
    ceil(w / 2^k) pixels; the level 2^k times smaller holds them, stretched by a fraction of a pixel)."""
    shrink = min(box.width / out_w, box.height / out_h)
    level = source.levels[0]
    for candidate in source.levels[1:]:
        scale = level_scale(source.width, candidate.width)
        if box.width / scale > out_w - 1 and box.height / scale > out_h - 1:
            level = candidate
    if len(source.levels) == 1 and source.loader.startswith(("jpeg", "webp")):
        return level, next((s for s in JPEG_SHRINKS if s <= shrink), 1)
    return level, 1


def to_display_colours(image: pyvips.Image) -> pyvips.Image:
    """8-bit sRGB or 8-bit grey, whatever the source's bit depth and colour space."""
    grey = image.interpretation in ("b-w", "grey16")
    target = "b-w" if grey else "srgb"
    if image.interpretation != target:
        image = image.colourspace(target)
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def level_window(source: SourceImage, box: Box, level_w: int, level_h: int) -> tuple[int, int, int, int]:
    """The pixels `x, y, w, h` of a `level_w` x `level_h` level of `source` that cover `box`."""
    fx, fy = 1 / level_scale(source.width, level_w), 1 / level_scale(source.height, level_h)
    x0, y0 = math.floor(box.x * fx), math.floor(box.y * fy)
    x1 = max(x0 + 1, min(level_w, math.ceil((box.x + box.width) * fx)))
    y1 = max(y0 + 1, min(level_h, math.ceil((box.y + box.height) * fy)))
    return x0, y0, x1 - x0, y1 - y0


def cut_and_scale(
    source: SourceImage, handles: LevelOpener, box: Box, out_w: int, out_h: int
) -> pyvips.Image:
    """The region at the output size, read from the cheapest level that keeps full quality."""
    level, shrink = choose_level(source, box, out_w, out_h)
    image = handles.open(source, level, shrink)
    image = to_display_colours(image.crop(*level_window(source, box, image.width, image.height)))
    if (image.width, image.height) != (out_w, out_h):
        alpha = image.hasalpha()
        if alpha:
            image = image.premultiply()
        image = image.resize(out_w / image.width, vscale=out_h / image.height)
        if alpha:
            image = image.unpremultiply().cast("uchar")
        if (image.width, image.height) != (out_w, out_h):
            image = image.gravity("north-west", out_w, out_h, extend="copy")
    return image


def apply_mask(
    image: pyvips.Image, mask: np.ndarray, transparent: bool, background: tuple[int, int, int]
) -> pyvips.Image:
    """Make pixels outside the mask (uint8, 255 inside) transparent, or for formats without alpha fill them
    with `background`."""
    if not transparent:
        if image.hasalpha():
            image = image.flatten(background=fill_colour(image, background)).cast("uchar")
        return filled(image, mask, fill_colour(image, background))
    alpha = mask_image(mask)
    if image.hasalpha():
        alpha = (image[image.bands - 1] * (alpha / 255.0)).cast("uchar")
        return image.extract_band(0, n=image.bands - 1).bandjoin(alpha)
    return image.bandjoin(alpha)


def mask_image(mask: np.ndarray) -> pyvips.Image:
    """The mask as a one-band uchar libvips image over the array's memory, which the image keeps alive."""
    return pyvips.Image.new_from_memory(mask, mask.shape[1], mask.shape[0], 1, "uchar")


def filled(image: pyvips.Image, mask: np.ndarray, fill: list[float]) -> pyvips.Image:
    """`image` (8-bit, no alpha) where `mask` is set, `fill` elsewhere: up to `FILL_IN_MEMORY_PIXELS` libvips'
    output buffer filled in place (OpenCV's masked and/or; 0.2 ms on a 1250x131 block, where a fresh buffer
    filled by numpy took 1.1 ms), libvips' ifthenelse, streaming, above that."""
    if image.width * image.height > FILL_IN_MEMORY_PIXELS:
        return mask_image(mask).ifthenelse(image, fill)
    import cv2  # the gunicorn master never loads OpenCV (tests/test_serving_training_split.py)

    shape = (image.height, image.width, image.bands)
    pixels = np.frombuffer(image.write_to_memory(), np.uint8).reshape(shape)  # writable, not a copy
    outside = cv2.bitwise_not(mask)
    colour = (*fill, 0.0, 0.0, 0.0)[:4]  # a 4-tuple is a scalar to OpenCV, not a small array
    if min(fill) < 255:  # or-ing 255 (white, the default) needs no clearing first
        cv2.bitwise_and(pixels, (0.0,) * 4, dst=pixels, mask=outside)
    cv2.bitwise_or(pixels, colour, dst=pixels, mask=outside)
    memory = pyvips.Image.new_from_memory(pixels, image.width, image.height, image.bands, "uchar")
    interpretation = image.interpretation  # new_from_memory guesses srgb for 3 bands, b-w for 1
    return memory if memory.interpretation == interpretation else memory.copy(interpretation=interpretation)


def rotate(
    image: pyvips.Image, rotation: Rotation, transparent: bool, background: tuple[int, int, int] = WHITE
) -> pyvips.Image:
    """Mirror, then rotate clockwise; other than right angles the corners are transparent or `background`."""
    if rotation.mirror:
        image = image.fliphor()
    degrees = rotation.degrees % 360
    if rotation.is_right_angle:
        return image.rot(f"d{int(degrees)}") if degrees else image
    if transparent and not image.hasalpha():
        image = image.addalpha()
    corners = [0] * image.bands if image.hasalpha() else fill_colour(image, background)
    return image.rotate(degrees, background=corners, interpolate=pyvips.Interpolate.new("bilinear"))


def apply_quality(image: pyvips.Image, quality: str) -> pyvips.Image:
    """`gray` converts to one grey band, `bitonal` thresholds that at 50%; alpha is kept."""
    if quality not in ("gray", "bitonal"):
        return image
    alpha = image[image.bands - 1] if image.hasalpha() else None
    grey = image.colourspace("b-w")[0] if image.interpretation != "b-w" else image[0]
    if quality == "bitonal":
        grey = (grey >= 128).ifthenelse(255, 0).cast("uchar")
    grey = grey.copy(interpretation="b-w")
    return grey.bandjoin(alpha) if alpha is not None else grey


def build_image(
    source: SourceImage, handles: LevelOpener, plan: ImagePlan, background: tuple[int, int, int] = WHITE
) -> pyvips.Image:
    """Region (with its mask), size, rotation and quality: the planned image before encoding."""
    box = plan.region.box
    transparent = plan.format in ALPHA_FORMATS
    image = cut_and_scale(source, handles, box, plan.width, plan.height)
    if plan.region.mask is not None:
        mask = plan.region.mask.rasterize(box, plan.width, plan.height)
        image = apply_mask(image, mask, transparent, background)
    image = rotate(image, plan.rotation, transparent, background)
    return apply_quality(image, plan.quality)


def render(
    source: SourceImage,
    handles: LevelOpener,
    plan: ImagePlan,
    options: EncodeOptions,
    background: tuple[int, int, int] = WHITE,
) -> bytes:
    """Run the whole chain for one planned request and return the encoded bytes."""
    image = build_image(source, handles, plan, background)
    in_memory = plan.region.mask is not None and plan.width * plan.height <= FILL_IN_MEMORY_PIXELS
    return encode(image, plan.format, options, background, in_memory)
