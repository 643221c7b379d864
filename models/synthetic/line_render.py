"""One line of text: set by Pango (pyvips), warped onto the page, with the polygon of its ink band."""

import math
from dataclasses import dataclass
from functools import lru_cache
from xml.sax.saxutils import escape

import cv2
import numpy as np
import pyvips

from .fonts import FontFace
from .placement import Placement
from .text_source import CHARACTERS

_MEASURE_SIZE = 100.0
_SAMPLE = "The quick brown fox jumps over the lazy dog, 1234 times; Straße, façade, über."
_WAVE_STEP = 30.0  # page pixels between polygon points along a curved line (12 or more a side)


@dataclass(frozen=True)
class Ink:
    """A line as Pango sets it: coverage 0..1, the offset of its top-left pixel from the layout origin,
    and the vertical band (top, bottom) from that origin that every line of this face and size fills."""

    coverage: np.ndarray
    left: int
    top: int
    band: tuple[int, int]

    @property
    def width(self) -> int:
        return int(self.coverage.shape[1])


@dataclass(frozen=True)
class PlacedLine:
    """A line's coverage on the page (top-left pixel at `x`, `y`) and its polygon in page pixels."""

    coverage: np.ndarray
    x: int
    y: int
    polygon: tuple[tuple[float, float], ...]


def _text_image(text: str, face: FontFace, size: float) -> pyvips.Image:
    """Pango's rendering of plain `text` (markup escaped), cropped to its ink."""
    font = f"{face.description} {size:.2f}"
    return pyvips.Image.text(escape(text), font=font, fontfile=str(face.path), dpi=72)


def set_text(text: str, face: FontFace, size: float) -> Ink:
    """The line `text` in `face` at `size` pixels per em."""
    image = _text_image(text, face, size)
    coverage = (
        np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width)).astype(
            np.float32
        )
        / 255
    )
    left, top = image.get("xoffset"), image.get("yoffset")
    band_top, band_bottom = band(face, size)
    return Ink(coverage, left, top, (min(band_top, top), max(band_bottom, top + image.height)))


@lru_cache(maxsize=512)
def band(face: FontFace, size: float) -> tuple[int, int]:
    """Top and bottom (from the layout origin) of the ink of every character the texts can hold."""
    image = _text_image("".join(sorted(CHARACTERS - {" "})), face, size)
    return image.get("yoffset"), image.get("yoffset") + image.height


@lru_cache(maxsize=128)
def _metrics(face: FontFace) -> tuple[float, float]:
    """Band height and mean character advance per pixel of font size."""
    top, bottom = band(face, _MEASURE_SIZE)
    return (bottom - top) / _MEASURE_SIZE, _text_image(_SAMPLE, face, _MEASURE_SIZE).width / (
        len(_SAMPLE) * _MEASURE_SIZE
    )


def size_for_band(face: FontFace, height: float) -> float:
    """The font size whose band (ascender with accents to descender) is `height` pixels tall."""
    return round(height / _metrics(face)[0], 2)


def characters_that_fit(face: FontFace, size: float, width: float) -> int:
    """About how many characters of running text fill `width` pixels."""
    return int(width / (_metrics(face)[1] * size))


def place(ink: Ink, placement: Placement, pad: float, page_size: tuple[int, int]) -> PlacedLine:
    """The ink warped onto the page by `placement` (from layout coordinates), with the polygon of its band
    grown by `pad`: 4 corners, or for a wave about every 30 page pixels along its top and bottom."""
    x0, x1 = ink.left - pad, ink.left + ink.width + pad
    y0, y1 = ink.band[0] - pad, ink.band[1] + pad
    steps = 1
    if placement.amplitude:
        steps = max(12, math.ceil((x1 - x0) / _WAVE_STEP))
    xs = np.linspace(x0, x1, steps + 1)
    outline = np.concatenate(
        [np.stack([xs, np.full_like(xs, y0)], 1), np.stack([xs, np.full_like(xs, y1)], 1)[::-1]]
    )
    polygon = placement.apply(outline)
    width, height = page_size
    left, top = np.floor(polygon.min(axis=0)).astype(int) - 1
    right, bottom = np.ceil(polygon.max(axis=0)).astype(int) + 1
    left, top, right, bottom = max(left, 0), max(top, 0), min(right, width), min(bottom, height)
    columns, rows = np.meshgrid(
        np.arange(left, right, dtype=np.float32) + 0.5, np.arange(top, bottom, dtype=np.float32) + 0.5
    )
    source_x, source_y = placement.invert(columns, rows)
    coverage = cv2.remap(
        ink.coverage,
        (source_x - ink.left - 0.5).astype(np.float32),
        (source_y - ink.top - 0.5).astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return PlacedLine(coverage, int(left), int(top), tuple((float(x), float(y)) for x, y in polygon))
