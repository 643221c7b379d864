"""Image sources: identifiers resolved safely inside a folder, and each image's pyramid levels."""

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyvips
from cachetools import LRUCache, TTLCache

from . import jpeg2000
from .byte_cache import ByteBoundedCache
from .decode_guard import check_decodable, check_pixel_count
from .errors import IIIFError
from .pixel_errors import libvips_reason

SUFFIXES = (
    ".tif",
    ".tiff",
    ".ptif",
    *jpeg2000.SUFFIXES,
    ".jpg",
    ".jpeg",
    ".png",
    ".webp",
    ".gif",
    ".heic",
    ".avif",
)


@dataclass(frozen=True)
class Level:
    """One resolution of an image: its size and how to load it (page or sub-IFD of a TIFF, resolution levels
    of a JPEG 2000 discarded)."""

    width: int
    height: int
    page: int = 0
    subifd: int = -1
    reduce: int = 0


@dataclass(frozen=True)
class SourceImage:
    """What the server knows about one source file, without its pixels."""

    path: Path
    loader: str
    levels: tuple[Level, ...]
    mtime: float
    file_size: int

    @property
    def width(self) -> int:
        return self.levels[0].width

    @property
    def height(self) -> int:
        return self.levels[0].height

    @property
    def version(self) -> str:
        """What changes when the image does (its file's modification time): part of every cache key."""
        return repr(self.mtime)

    @property
    def native_tile(self) -> tuple[int, int] | None:
        """The tile grid the file is stored in, where serving it saves decoding (None: the server's)."""
        return None


@dataclass(frozen=True)
class Jp2Image(SourceImage):
    """A JPEG 2000 file: its levels are its resolution levels, read window by window (`jp2_window`)."""

    header: jpeg2000.Jp2Header

    @property
    def native_tile(self) -> tuple[int, int] | None:
        """The file's own tiles when it is tiled and they are of a viewer's size."""
        tile = self.header.tile
        if tile and all(side in jpeg2000.NATIVE_TILE_SIDES for side in tile):
            return tile
        return None


def describe_jp2(path: Path, mtime: float, file_size: int, max_pixels: int) -> Jp2Image:
    """A JPEG 2000 file described from its header alone: 413 above `max_pixels` before any decoding."""
    header = jpeg2000.read_header(path)
    check_pixel_count(header.width, header.height, max_pixels)
    levels = tuple(Level(*header.level_size(r), reduce=r) for r in range(header.resolutions))
    return Jp2Image(path, jpeg2000.LOADER, levels, mtime, file_size, header)


def _pyramid_levels(path: Path, first: pyvips.Image) -> tuple[Level, ...]:
    """Levels of a TIFF stored as pages or sub-IFDs, each about half the previous one."""
    levels = [Level(first.width, first.height)]
    if first.get_typeof("n-subifds") and first.get("n-subifds") > 0:
        candidates = [
            (pyvips.Image.new_from_file(str(path), subifd=i, revalidate=True), 0, i)
            for i in range(first.get("n-subifds"))
        ]
    else:
        pages = first.get("n-pages") if first.get_typeof("n-pages") else 1
        candidates = [
            (pyvips.Image.new_from_file(str(path), page=p, revalidate=True), p, -1) for p in range(1, pages)
        ]
    for image, page, subifd in candidates:
        previous = levels[-1]
        ratio = previous.width / image.width
        same_shape = abs(image.width / image.height - first.width / first.height) < 0.02
        if not same_shape or ratio < 1.5 or image.bands != first.bands:
            break
        levels.append(Level(image.width, image.height, page, subifd))
    return tuple(levels)


TILE_CACHE_BYTES = 16 * 2**20
SAMPLE_BYTES = {"ushort": 2, "short": 2, "uint": 4, "int": 4, "float": 4, "double": 8, "complex": 8}


def pixel_bytes(image: pyvips.Image) -> int:
    """Bytes of one decoded pixel of `image`."""
    return image.bands * SAMPLE_BYTES.get(image.format, 1)


def _keep_decoded_tiles(image: pyvips.Image) -> tuple[pyvips.Image, int]:
    """The level behind a cache of its decoded TIFF tiles (about 16 MB per level handle), kept between
    requests: neighbouring viewer tiles and regions then skip the JPEG decoding of the tiles they share
    (3.8 to 1.2 ms for a 256 px tile, 19 to 2.4 ms for a 1250x300 region; benchmarks/peers). Returns the
    handle and the most bytes its tiles hold."""
    width, height = image.get("tile-width"), image.get("tile-height")
    tile_bytes = width * height * pixel_bytes(image)
    max_tiles = max(4, TILE_CACHE_BYTES // tile_bytes)
    cached = image.tilecache(
        tile_width=width, tile_height=height, max_tiles=max_tiles, threaded=True, persistent=True
    )
    return cached, max_tiles * tile_bytes


class LevelOpener(Protocol):
    """Anything that hands out pyvips handles on an image's levels."""

    def open(self, source: SourceImage, level: Level, shrink: int = 1) -> pyvips.Image:
        """A handle on one level, reduced on load by `shrink` where the format allows it."""
        ...


class DecodedOnce:
    """Wraps an opener so that each level is decoded into memory once and shared (for batches)."""

    def __init__(self, opener: LevelOpener) -> None:
        self.opener = opener
        self._decoded: dict[tuple[Path, Level, int], pyvips.Image] = {}
        self._lock = threading.Lock()

    def open(self, source: SourceImage, level: Level, shrink: int = 1) -> pyvips.Image:
        """The level in memory; tiled TIFFs are passed through, their tiles are read on demand."""
        if source.loader.startswith("tiff"):
            return self.opener.open(source, level, shrink)
        key = (source.path, level, shrink)
        with self._lock:
            if key not in self._decoded:
                self._decoded[key] = self.opener.open(source, level, shrink).copy_memory()
            return self._decoded[key]


HANDLE_CACHE_BYTES = 256 << 20
HandleKey = tuple[Path, float, Level, int]
RESOLVED_FOR_S = 1.0
"""How long an identifier's file, once resolved inside the folder, is taken as resolved: resolving walks every
component of the path (an `lstat` each), a `stat` of the file is all a request does in between."""
RESOLVED_IDENTIFIERS = 4096


class FolderSource:
    """Images in one folder; identifiers are file names with or without their suffix."""

    def __init__(
        self, root: Path, max_source_pixels: int, cache_size: int, cache_bytes: int = HANDLE_CACHE_BYTES
    ) -> None:
        self.root = root.resolve()
        self.max_source_pixels = max_source_pixels
        # Descriptions are a few hundred bytes each (a path and at most ~20 levels): bounded by their number.
        self._described: LRUCache[tuple[Path, float], SourceImage] = LRUCache(maxsize=max(1, cache_size))
        # Open handles keep what they decoded: bounded by those bytes, and by their number (open files).
        self.handles: ByteBoundedCache[HandleKey, tuple[pyvips.Image, int]] = ByteBoundedCache(
            cache_bytes, lambda handle: handle[1], max_items=max(1, cache_size)
        )
        self._resolved: TTLCache[str, Path] = TTLCache(RESOLVED_IDENTIFIERS, RESOLVED_FOR_S)
        self._lock = threading.Lock()

    def identifiers(self) -> list[str]:
        """Identifiers of the images in the folder, sorted, without suffix."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.stem
            for p in self.root.iterdir()
            if p.suffix.lower() in SUFFIXES and p.is_file() and p.resolve().is_relative_to(self.root)
        )

    def resolve(self, identifier: str) -> Path:
        """The file an identifier names; never a path outside the folder (404 otherwise)."""
        with self._lock:
            known = self._resolved.get(identifier)
        if known is not None:
            return known
        real = self._resolve(identifier)
        with self._lock:
            self._resolved[identifier] = real
        return real

    def _resolve(self, identifier: str) -> Path:
        """`resolve` done in full: the identifier checked, its candidates walked to their real paths."""
        if "\x00" in identifier or not identifier or identifier.startswith(("/", "\\")):
            raise IIIFError(400, "identifier is empty, absolute or contains a NUL byte", "identifier")
        if ".." in Path(identifier).parts or "\\" in identifier:
            raise IIIFError(400, "identifier may not contain '..' or backslashes", "identifier")
        base = str(self.root / identifier)
        for candidate in (base, *(base + suffix for suffix in SUFFIXES)):  # strings: no Path per suffix
            if not os.path.lexists(candidate):  # one lstat instead of realpath's walk over every component
                continue
            real = Path(os.path.realpath(candidate))
            if real.is_file() and real.is_relative_to(self.root):
                return real
        raise IIIFError(404, f"no image with identifier {identifier!r}", "identifier")

    def describe(self, identifier: str) -> SourceImage:
        """Size, levels and modification time of an image, cached until the file changes."""
        path, stat = self._stat(identifier)
        key = (path, stat.st_mtime)
        with self._lock:
            cached = self._described.get(key)
        if cached is None:
            cached = self._read_description(path, stat.st_mtime, stat.st_size)
            with self._lock:
                self._described[key] = cached
        return cached

    def described(self, identifier: str) -> SourceImage | None:
        """The image's description when it is kept for the file as it is now (a `stat`, nothing read); None
        when `describe` has work to do, or says why not."""
        try:
            path, stat = self._stat(identifier)
        except IIIFError:
            return None
        with self._lock:
            return self._described.get((path, stat.st_mtime))

    def _stat(self, identifier: str) -> tuple[Path, os.stat_result]:
        """The identifier's file and its `stat`; resolved again when the file went away since."""
        path = self.resolve(identifier)
        try:
            return path, os.stat(path)
        except OSError:
            with self._lock:
                self._resolved.pop(identifier, None)
        path = self.resolve(identifier)  # 404 when it is gone for good
        try:
            return path, os.stat(path)
        except OSError as error:
            raise IIIFError(404, f"no image with identifier {identifier!r}", "identifier") from error

    def _read_description(self, path: Path, mtime: float, file_size: int) -> SourceImage:
        """The file's size and levels from its header (413 and 501 before any pixel is decoded)."""
        if path.suffix.lower() in jpeg2000.SUFFIXES:
            return describe_jp2(path, mtime, file_size, self.max_source_pixels)
        try:
            # `revalidate`: libvips' own cache would otherwise hand back the pixels of the file's old version.
            first = pyvips.Image.new_from_file(str(path), revalidate=True)
        except pyvips.Error as error:
            reason = libvips_reason(error, path)  # the server's folders left out
            raise IIIFError(501, f"cannot decode {path.name}: {reason}", "identifier") from error
        check_decodable(first, self.max_source_pixels)  # before any pixel is decoded
        loader = first.get("vips-loader")
        levels = (
            _pyramid_levels(path, first) if loader.startswith("tiff") else (Level(first.width, first.height),)
        )
        return SourceImage(path, loader, levels, mtime, file_size)

    def open(self, source: SourceImage, level: Level, shrink: int = 1) -> pyvips.Image:
        """A pyvips handle on one level, with JPEG/WebP shrink-on-load; handles are cached."""
        if isinstance(source, Jp2Image):
            raise TypeError("JPEG 2000 is read window by window (FolderPages.opener), never a whole level")
        key = (source.path, source.mtime, level, shrink)
        cached = self.handles.get(key)
        if cached is not None:
            return cached[0]
        options: dict[str, object] = {}
        if level.subifd >= 0:
            options["subifd"] = level.subifd
        elif level.page:
            options["page"] = level.page
        if shrink > 1 and source.loader.startswith("jpeg"):
            options["shrink"] = shrink
        elif shrink > 1 and source.loader.startswith("webp"):
            options["scale"] = 1 / shrink
        # `fail_on`: a truncated or corrupt file is an error (501), not an image with grey filler.
        image = pyvips.Image.new_from_file(str(source.path), revalidate=True, fail_on="truncated", **options)
        if source.loader.startswith("tiff") and image.get_typeof("tile-width"):
            image, held = _keep_decoded_tiles(image)
        else:  # other formats are decoded whole on first use, and the handle keeps the pixels
            held = image.width * image.height * pixel_bytes(image)
        self.handles.put(key, (image, held))
        return image
