"""A window of a JPEG-tiled level cut from its decoded tiles and encoded again, with OpenCV's libjpeg-turbo:
for a tile on the edge or off the stored grid, about half of what the same work costs through libvips'
TIFF loader and save (its per-operation set-up dominates such small images). Decoded tiles are kept a while
(`StoredTiles`): neighbouring windows off the stored grid share them."""

from collections.abc import Callable

import numpy as np

from .tiff_tiles import JpegTiles


def tiles_of(tiles: JpegTiles, window: tuple[int, int, int, int]) -> list[tuple[int, int, int]]:
    """The stored tiles a window touches: (index, left, top) of each, the tile's corner in the level."""
    x, y, width, height = window
    tw, th = tiles.tile_width, tiles.tile_height
    across = -(-tiles.width // tw)
    return [
        (row * across + col, col * tw, row * th)
        for row in range(y // th, (y + height - 1) // th + 1)
        for col in range(x // tw, (x + width - 1) // tw + 1)
    ]


def decode(data: bytes) -> np.ndarray | None:
    """A JPEG file's pixels (height x width, or x bands), as libjpeg-turbo decodes them; None if it cannot."""
    import cv2  # the gunicorn master never loads OpenCV (tests/test_serving_training_split.py)

    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return pixels if isinstance(pixels, np.ndarray) else None


def cut_window(
    tile: Callable[[int], np.ndarray | None],
    tiles: JpegTiles,
    window: tuple[int, int, int, int],
    size: tuple[int, int],
    quality: int,
) -> bytes | None:
    """The window of the level at `size` (stretched when they differ) as a JPEG at `quality`, from the
    decoded stored tiles (`tile(index)`); None when one of them cannot be read as it is (the caller decodes
    through libvips then)."""
    import cv2

    x, y, width, height = window
    canvas: np.ndarray | None = None
    for index, left, top in tiles_of(tiles, window):
        pixels = tile(index)
        if pixels is None or pixels.shape[:2] != (tiles.tile_height, tiles.tile_width):
            return None
        if canvas is None:
            canvas = np.empty((height, width, *pixels.shape[2:]), np.uint8)
        x0, y0 = max(x, left), max(y, top)
        x1, y1 = min(x + width, left + tiles.tile_width), min(y + height, top + tiles.tile_height)
        canvas[y0 - y : y1 - y, x0 - x : x1 - x] = pixels[y0 - top : y1 - top, x0 - left : x1 - left]
    if canvas is None:
        return None
    if (width, height) != size:
        canvas = cv2.resize(canvas, size, interpolation=cv2.INTER_LINEAR)
    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return encoded.tobytes() if ok else None
