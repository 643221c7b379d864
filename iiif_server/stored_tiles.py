"""Stored JPEG tiles sent as they are: when a request asks for exactly one whole tile of a JPEG-tiled TIFF
level at that level's own size, as it is stored (`default`/`color`, `jpg`, no rotation, no mirroring, no
mask), the tile's bytes behind the TIFF's JPEG tables are the answer, with nothing decoded or encoded.

The pixels are the file's own (its JPEG quality, not IIIF_JPEG_QUALITY); those the decoding path would send
differ by one JPEG encoding. Any other window of a JPEG-tiled level at its own size (an edge tile, a tile off
the stored grid) is cut from the decoded stored tiles (`jpeg_windows.py`). `IIIF_TILE_PASSTHROUGH=0` turns
both off; info.json offers the stored grid either way (`tile_side`). `read_now` is what the short path
(`short_path.py`) answers on the event loop: the small cases, once the file's layout was read.
"""

import os
import threading
from functools import partial
from pathlib import Path

import numpy as np
from cachetools import LRUCache

from .byte_cache import ByteBoundedCache
from .jpeg_windows import cut_window, decode, tiles_of
from .pipeline import choose_level, level_window
from .plan import ImagePlan
from .sources import Level, SourceImage
from .tiff_tiles import RGB, YCBCR, JpegTiles, TiffLayout, read_layout

SOI, EOI = b"\xff\xd8", b"\xff\xd9"
# JFIF 1.01 APP0 (no thumbnail, 1:1 pixels): the stream is grey or YCbCr, which is what a JFIF file holds.
JFIF_APP0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
# Adobe APP14, transform 0: the three components are R, G and B as they are.
ADOBE_RGB = b"\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00"
SOF_MARKERS = (0xC0, 0xC1, 0xC2)  # baseline, extended and progressive frames
RGB_IDS = b"RGB"  # the component ids libjpeg gives an RGB-coded stream
MAX_TILE_BYTES = 16 << 20
# What `read_now` does where the request arrived (on the event loop): whole stored tiles up to 1 MB, and
# windows up to 512 x 512 px cut from at most four stored tiles (a few ms of decoding and encoding at most).
INLINE_TILE_BYTES = 1 << 20
INLINE_WINDOW_PIXELS = 512 * 512
INLINE_WINDOW_TILES = 4
VIEWER_TILE_SIDES = (256, 1024)  # the stored tile sides info.json offers as its tile size


def stored_window(source: SourceImage, plan: ImagePlan) -> tuple[Level, tuple[int, int, int, int]] | None:
    """The level and window the pipeline would read for `plan`, when the stored tiles give the same picture:
    nothing after the cut changes its pixels, and the window is at most one pixel off the output size on
    each side (the rounding of a region on a level made by halving an odd side: it is stretched to size)."""
    rotation = plan.rotation
    if (
        plan.format != "jpg"
        or plan.quality not in ("default", "color")
        or plan.region.mask is not None
        or rotation.mirror
        or rotation.degrees % 360
        or not source.loader.startswith("tiff")
    ):
        return None
    box = plan.region.box
    level, shrink = choose_level(source, box, plan.width, plan.height)
    window = level_window(source, box, level.width, level.height)
    if shrink != 1 or abs(window[2] - plan.width) > 1 or abs(window[3] - plan.height) > 1:
        return None
    return level, window


def whole_tile(tiles: JpegTiles, window: tuple[int, int, int, int], plan: ImagePlan) -> int | None:
    """The index of the stored tile that is the planned image as it is, if one is."""
    return tiles.tile_index(*window) if window[2:] == (plan.width, plan.height) else None


def leading_segments(stream: bytes) -> tuple[int, bytes | None]:
    """Where the APPn segments right after SOI end, and the component ids of the frame header (SOF; None
    when there is none before the data)."""
    position = app_end = 2
    while position + 4 <= len(stream) and stream[position] == 0xFF:
        marker = stream[position + 1]
        length = int.from_bytes(stream[position + 2 : position + 4], "big")
        if 0xE0 <= marker <= 0xEF and app_end == position:
            app_end = position + 2 + length
        if marker in SOF_MARKERS:
            count = stream[position + 9] if position + 9 < len(stream) else 0
            return app_end, stream[position + 10 : position + 10 + 3 * count : 3]
        position += 2 + length
    return app_end, None


def colour_marker(ids: bytes, photometric: int) -> bytes | None:
    """The APPn segment that makes any decoder read the components as libvips reads the TIFF: JFIF for grey
    and YCbCr (a YCbCr TIFF whose stream has other ids than R, G, B), Adobe's "as they are" for RGB (an RGB
    TIFF whose stream says R, G, B). None for the rest, which libvips and a JPEG decoder may read differently
    (an RGB TIFF around a YCbCr-coded stream): those are decoded."""
    if len(ids) == 1:
        return JFIF_APP0
    if len(ids) == 3 and photometric == YCBCR and ids != RGB_IDS:
        return JFIF_APP0
    if len(ids) == 3 and photometric == RGB and ids == RGB_IDS:
        return ADOBE_RGB
    return None


def as_jfif(tables: bytes, tile: bytes, photometric: int) -> bytes | None:
    """One JPEG file from a TIFF tile's abbreviated stream and the TIFF's JPEG tables (SOI, DQT/DHT, EOI):
    the tile's own APPn segments (else the colour marker it needs), the tables, then the rest of the tile.
    None when the bytes are not a whole JPEG stream or its colours are ambiguous."""
    if not (tile.startswith(SOI) and tile.endswith(EOI)):
        return None
    if tables and not (tables.startswith(SOI) and tables.endswith(EOI)):
        return None
    app_end, ids = leading_segments(tile)
    marker = colour_marker(ids, photometric) if ids is not None else None
    if marker is None:
        return None
    own = tile[2:app_end]
    return b"".join((SOI, own or marker, tables[2:-2], tile[app_end:]))


class StoredTiles:
    """Reads the stored tiles of the folder's JPEG-tiled TIFFs, whole or decoded (`decoded_bytes` of them
    kept); each file's layout is read once per version (its directories: some bytes per tile) and kept for
    the last `max_files` files."""

    def __init__(self, max_files: int, decoded_bytes: int) -> None:
        self._layouts: LRUCache[tuple[Path, float], TiffLayout | None] = LRUCache(maxsize=max(1, max_files))
        self._lock = threading.Lock()
        # Decoded tiles by file version and the tile's offset in the file (IIIF_DECODED_TILES_MB).
        self.decoded: ByteBoundedCache[tuple[Path, float, int], np.ndarray] = ByteBoundedCache(
            decoded_bytes, lambda pixels: pixels.nbytes
        )

    def layout(self, source: SourceImage) -> TiffLayout | None:
        """The file's JPEG-tiled directories (None when it cannot be read as a TIFF)."""
        key = (source.path, source.mtime)
        with self._lock:
            if key in self._layouts:
                return self._layouts[key]
        try:
            with open(source.path, "rb") as file:
                layout: TiffLayout | None = read_layout(file)
        except (OSError, ValueError):
            layout = None  # the decoding path reads the file and says what is wrong with it
        with self._lock:
            self._layouts[key] = layout
        return layout

    def tile_side(self, source: SourceImage) -> int | None:
        """The side of the square JPEG tiles the full resolution of a TIFF is stored in, when it is a viewer's
        tile size (256 to 1024 px): info.json then offers the stored grid, whose tiles are sent as stored."""
        if not source.loader.startswith("tiff"):
            return None
        layout = self.layout(source)
        first = source.levels[0]
        tiles = layout.level(first.page, first.subifd) if layout else None
        if tiles is None or tiles.tile_width != tiles.tile_height:
            return None
        return tiles.tile_width if VIEWER_TILE_SIDES[0] <= tiles.tile_width <= VIEWER_TILE_SIDES[1] else None

    def kept_layout(self, source: SourceImage) -> TiffLayout | None:
        """The file's layout when it was read before (nothing is read here)."""
        with self._lock:
            return self._layouts.get((source.path, source.mtime))

    def tiles_for(
        self, source: SourceImage, plan: ImagePlan, layout: TiffLayout | None = None
    ) -> tuple[JpegTiles, tuple[int, int, int, int]] | None:
        """The JPEG-tiled level and its window that `plan` is cut from (see `stored_window`), in `layout` (by
        default the file's, read when it is not kept)."""
        found = stored_window(source, plan)
        if found is None:
            return None
        level, window = found
        layout = layout or self.layout(source)
        tiles = layout.level(level.page, level.subifd) if layout else None
        if tiles is None or (tiles.width, tiles.height) != (level.width, level.height):
            return None
        return tiles, window

    def tile(
        self, source: SourceImage, tiles: JpegTiles, index: int, limit: int = MAX_TILE_BYTES
    ) -> bytes | None:
        """Stored tile `index` of `tiles` as one JPEG file (one `pread`), or None when it cannot be sent as
        it is or is over `limit` bytes."""
        if not 0 <= index < len(tiles.offsets) or not 0 < tiles.counts[index] <= limit:
            return None
        try:
            descriptor = os.open(source.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            data = os.pread(descriptor, tiles.counts[index], tiles.offsets[index])
        except OSError:
            return None
        finally:
            os.close(descriptor)
        return as_jfif(tiles.jpeg_tables, data, tiles.photometric)

    def read_now(self, source: SourceImage, plan: ImagePlan, quality: int) -> bytes | None:
        """`read`, when the file's layout is kept and the work is small enough to do where the request
        arrived: a whole stored tile of at most INLINE_TILE_BYTES, or a window of at most INLINE_WINDOW_PIXELS
        cut from at most INLINE_WINDOW_TILES stored tiles of that many pixels each; None for anything else."""
        layout = self.kept_layout(source)
        found = self.tiles_for(source, plan, layout) if layout else None
        if found is None:
            return None
        tiles, window = found
        index = whole_tile(tiles, window, plan)
        if index is not None:
            return self.tile(source, tiles, index, INLINE_TILE_BYTES)
        small = max(plan.width * plan.height, tiles.tile_width * tiles.tile_height) <= INLINE_WINDOW_PIXELS
        if not small or len(tiles_of(tiles, window)) > INLINE_WINDOW_TILES:
            return None
        return self.cut(source, tiles, window, plan, quality)

    def read(self, source: SourceImage, plan: ImagePlan, quality: int) -> bytes | None:
        """The planned image from the stored tiles: a whole stored tile as it is, any other window of a
        JPEG-tiled level cut from its decoded tiles and encoded at `quality`; None for anything else."""
        found = self.tiles_for(source, plan)
        if found is None:
            return None
        tiles, window = found
        index = whole_tile(tiles, window, plan)
        if index is not None:
            return self.tile(source, tiles, index)
        return self.cut(source, tiles, window, plan, quality)

    def cut(
        self,
        source: SourceImage,
        tiles: JpegTiles,
        window: tuple[int, int, int, int],
        plan: ImagePlan,
        quality: int,
    ) -> bytes | None:
        """The window cut from the decoded stored tiles at the planned size, encoded at `quality`."""
        size = (plan.width, plan.height)
        return cut_window(partial(self.decoded_tile, source, tiles), tiles, window, size, quality)

    def decoded_tile(self, source: SourceImage, tiles: JpegTiles, index: int) -> np.ndarray | None:
        """Stored tile `index` decoded, kept for the windows next to it."""
        key = (source.path, source.mtime, tiles.offsets[index] if 0 <= index < len(tiles.offsets) else -1)
        pixels = self.decoded.get(key)
        if pixels is None:
            data = self.tile(source, tiles, index)
            pixels = decode(data) if data is not None else None
            if pixels is not None:
                self.decoded.put(key, pixels)
        return pixels
