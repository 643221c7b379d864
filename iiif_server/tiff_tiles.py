"""Where the stored JPEG tiles of a tiled TIFF are, read from its directories with the standard library: what
`stored_tiles.py` needs to send a tile's own bytes (TIFF 6 and BigTIFF, pages and sub-IFDs)."""

import struct
from array import array
from dataclasses import dataclass
from typing import BinaryIO

JPEG = 7  # Compression: "new-style" JPEG (TIFF Technical Note 2)
MIN_IS_BLACK, RGB, YCBCR = 1, 2, 6  # PhotometricInterpretation
TAGS = {
    256: "width",
    257: "height",
    258: "bits",
    259: "compression",
    262: "photometric",
    277: "samples",
    284: "planar",
    322: "tile_width",
    323: "tile_height",
    324: "offsets",
    325: "counts",
    330: "subifds",
    338: "extra_samples",
    347: "jpeg_tables",
}
# Field type: (struct code, bytes); RATIONAL and the like are never read here.
TYPES = {
    1: ("B", 1),
    2: ("B", 1),
    3: ("H", 2),
    4: ("I", 4),
    7: ("B", 1),
    13: ("I", 4),
    16: ("Q", 8),
    18: ("Q", 8),
}
MAX_PAGES = 64  # pyramids have a few dozen levels at most; a loop of directories ends here
MAX_TILES = 1 << 22


@dataclass(frozen=True, eq=False)
class JpegTiles:
    """One directory of a TIFF whose tiles are whole 8-bit JPEG streams (one plane, no extra samples)."""

    width: int
    height: int
    tile_width: int
    tile_height: int
    offsets: "array[int]"
    counts: "array[int]"
    jpeg_tables: bytes
    photometric: int

    def tile_index(self, x: int, y: int, width: int, height: int) -> int | None:
        """The index of the stored tile that is exactly the window `x, y, width, height`, if one is: a whole
        tile inside the image (edge tiles are stored padded to the tile size)."""
        tw, th = self.tile_width, self.tile_height
        if (width, height) != (tw, th) or x % tw or y % th or x + tw > self.width or y + th > self.height:
            return None
        index = (y // th) * -(-self.width // tw) + x // tw
        return index if index < len(self.offsets) else None


@dataclass(frozen=True, eq=False)
class TiffLayout:
    """The JPEG-tiled directories of one file: its pages in order, and the sub-IFDs of its first page (None
    where a directory is not JPEG-tiled)."""

    pages: tuple[JpegTiles | None, ...]
    subifds: tuple[JpegTiles | None, ...]

    def level(self, page: int, subifd: int) -> JpegTiles | None:
        """The directory of a pyramid level (`sources.Level`'s page and sub-IFD)."""
        found = self.subifds if subifd >= 0 else self.pages
        index = subifd if subifd >= 0 else page
        return found[index] if 0 <= index < len(found) else None


class TiffReader:
    """Reads directories of one open TIFF: byte order, classic or BigTIFF offsets."""

    def __init__(self, file: BinaryIO) -> None:
        self.file = file
        head = file.read(16)
        order = {b"II": "<", b"MM": ">"}.get(head[:2])
        if order is None or len(head) < 8:
            raise ValueError("not a TIFF file")
        self.order = order
        (magic,) = struct.unpack(order + "H", head[2:4])
        if magic == 42:
            self.big, self.first = False, struct.unpack(order + "I", head[4:8])[0]
        elif magic == 43 and len(head) == 16:
            self.big, self.first = True, struct.unpack(order + "Q", head[8:16])[0]
        else:
            raise ValueError("not a TIFF file")

    def read(self, offset: int, size: int) -> bytes:
        """`size` bytes at `offset`, all of them."""
        self.file.seek(offset)
        data = self.file.read(size)
        if len(data) != size:
            raise ValueError("TIFF directory points past the end of the file")
        return data

    def directory(self, offset: int) -> tuple[dict[str, tuple[int, ...] | bytes], int]:
        """The tags this module reads of the directory at `offset`, and the offset of the next one."""
        count_code, entry_size, value_size = ("Q", 20, 8) if self.big else ("H", 12, 4)
        count_bytes = struct.calcsize(count_code)
        (count,) = struct.unpack(self.order + count_code, self.read(offset, count_bytes))
        raw = self.read(offset + count_bytes, count * entry_size + value_size)
        fields: dict[str, tuple[int, ...] | bytes] = {}
        entry_code = self.order + ("HHQ" if self.big else "HHI")
        for start in range(0, count * entry_size, entry_size):
            tag, kind, n = struct.unpack(entry_code, raw[start : start + entry_size - value_size])
            name, layout = TAGS.get(tag), TYPES.get(kind)
            if name is None or layout is None or n > MAX_TILES:
                continue
            code, size = layout
            inline = raw[start + entry_size - value_size : start + entry_size]
            if n * size <= value_size:
                data = inline[: n * size]
            else:
                pointer_code = self.order + ("Q" if self.big else "I")
                data = self.read(struct.unpack(pointer_code, inline)[0], n * size)
            fields[name] = data if tag == 347 else struct.unpack(f"{self.order}{n}{code}", data)
        (next_offset,) = struct.unpack(self.order + ("Q" if self.big else "I"), raw[-value_size:])
        return fields, next_offset


def jpeg_tiles(fields: dict[str, tuple[int, ...] | bytes]) -> JpegTiles | None:
    """The directory as JpegTiles when its tiles can be sent as they are, else None."""

    def one(name: str, default: int = 0) -> int:
        value = fields.get(name)
        return value[0] if isinstance(value, tuple) and value else default

    bits = fields.get("bits", (1,))
    offsets, counts = fields.get("offsets"), fields.get("counts")
    photometric, samples = one("photometric", -1), one("samples", 1)
    colour = (photometric == MIN_IS_BLACK and samples == 1) or (photometric in (RGB, YCBCR) and samples == 3)
    if (
        one("compression") != JPEG
        or not colour
        or one("planar", 1) != 1
        or "extra_samples" in fields
        or not isinstance(bits, tuple)
        or any(b != 8 for b in bits)
        or not one("tile_width")
        or not one("tile_height")
        or not isinstance(offsets, tuple)
        or not isinstance(counts, tuple)
        or len(offsets) != len(counts)
    ):
        return None
    tables = fields.get("jpeg_tables", b"")
    return JpegTiles(
        one("width"),
        one("height"),
        one("tile_width"),
        one("tile_height"),
        array("Q", offsets),
        array("Q", counts),
        tables if isinstance(tables, bytes) else b"",
        photometric,
    )


def read_layout(file: BinaryIO) -> TiffLayout:
    """The JPEG-tiled directories of an open TIFF (ValueError when it is not a readable TIFF)."""
    reader = TiffReader(file)
    pages: list[JpegTiles | None] = []
    subifd_offsets: tuple[int, ...] | bytes = ()
    offset, seen = reader.first, set()
    while offset and offset not in seen and len(pages) < MAX_PAGES:
        seen.add(offset)
        fields, offset = reader.directory(offset)
        if not pages:
            subifd_offsets = fields.get("subifds", ())
        pages.append(jpeg_tiles(fields))
    subifds = tuple(jpeg_tiles(reader.directory(o)[0]) for o in subifd_offsets[:MAX_PAGES])
    return TiffLayout(tuple(pages), subifds)
