"""JPEG 2000 files read through OpenJPEG (glymur over Debian's libopenjp2): the header alone to describe a
file, then only the resolution level and the window a request needs (a 256 px tile of a 10000x14000 master
decodes the code-blocks under that tile, not the image)."""

import struct
from dataclasses import dataclass
from pathlib import Path

import glymur
import numpy as np
import pyvips

from .errors import IIIFError

LOADER = "jp2k"
SUFFIXES = (".jp2", ".j2k", ".j2c", ".jpx", ".jpf")
# A file's own tile grid is listed in info.json when its tiles are in this range; otherwise the server's.
NATIVE_TILE_SIDES = range(256, 1025)
# Enumerated colour spaces served as stored (ISO 15444-1 Table I.10: 16 sRGB, 17 greyscale); others (sYCC,
# CMYK, ...) would need a conversion OpenJPEG leaves to the caller.
SERVED_COLOURSPACES = (16, 17)
MIN_OPENJPEG = (2, 4, 0)  # glymur reads regions and resolution levels with OpenJPEG from 2.4 on
# What glymur and OpenJPEG raise for a file they cannot parse or decode.
DECODER_ERRORS = (OSError, RuntimeError, ValueError, struct.error, IndexError, KeyError, AttributeError)


@dataclass(frozen=True)
class Jp2Header:
    """What the main header says: the size, the samples, how many resolutions and the tile grid."""

    width: int
    height: int
    bands: int
    bits: int
    resolutions: int
    tile: tuple[int, int] | None

    def level_size(self, reduce: int) -> tuple[int, int]:
        """The size of the image with `reduce` resolution levels discarded (OpenJPEG's ceil rule)."""
        return -(-self.width // 2**reduce), -(-self.height // 2**reduce)


def undecodable(path: Path, error: Exception) -> IIIFError:
    """501 with the decoder's reason on one line, naming the file but not its folders."""
    message = str(error).replace(str(path), path.name).replace("OpenJPEG library error:", "")
    reason = "; ".join(line.strip() for line in message.splitlines() if line.strip())[:300]
    return IIIFError(501, f"cannot decode {path.name}: {reason or type(error).__name__}", "identifier")


def _check_whole(path: Path, jp2: glymur.Jp2k, file_size: int) -> None:
    """501 when the codestream box of a JP2/JPX file runs past the end of the file (a truncated copy)."""
    for box in jp2.box:
        if box.box_id == "jp2c" and box.length and box.offset + box.length > file_size:
            reason = (
                f"truncated: its codestream needs {box.offset + box.length} bytes, the file has {file_size}"
            )
            raise IIIFError(501, f"cannot decode {path.name}: {reason}", "identifier")


def _colourspace(jp2: glymur.Jp2k) -> int | None:
    """The enumerated colour space of the first colour specification box (None: an ICC profile, or none)."""
    for box in jp2.box:
        for inner in getattr(box, "box", []):
            if inner.box_id == "colr":
                return inner.colorspace if inner.method == glymur.core.ENUMERATED_COLORSPACE else None
    return None


def read_header(path: Path) -> Jp2Header:
    """The file's boxes and main codestream header, without decoding a pixel (501 when it is unusable, or
    when OpenJPEG is missing)."""
    if tuple(glymur.version.openjpeg_version_tuple) < MIN_OPENJPEG:
        reason = "JPEG 2000 needs OpenJPEG 2.4 or later (libopenjp2-7; scripts/setup installs it)"
        raise IIIFError(501, reason, "identifier")
    try:
        jp2 = glymur.Jp2k(str(path))
        _check_whole(path, jp2, path.stat().st_size)
        siz, cod = jp2.codestream.segment[1], jp2.codestream.segment[2]
        colourspace = _colourspace(jp2)
    except DECODER_ERRORS as error:
        raise undecodable(path, error) from error
    bands = len(siz.bitdepth)
    if siz.xosiz or siz.yosiz:
        raise IIIFError(
            501, f"{path.name}: an image offset on the reference grid is not served", "identifier"
        )
    if bands not in (1, 2, 3, 4) or any(siz.signed) or len(set(siz.bitdepth)) > 1 or max(siz.bitdepth) > 16:
        reason = f"{bands} components of {siz.bitdepth} bits (signed: {siz.signed}) are not served"
        raise IIIFError(501, f"{path.name}: {reason}", "identifier")
    if len({(dx, dy) for dx, dy in zip(siz.xrsiz, siz.yrsiz, strict=True)}) > 1:
        raise IIIFError(501, f"{path.name}: subsampled components are not served", "identifier")
    if colourspace is not None and colourspace not in SERVED_COLOURSPACES:
        raise IIIFError(
            501, f"{path.name}: enumerated colour space {colourspace} is not served", "identifier"
        )
    tiled = (siz.xtsiz, siz.ytsiz) != (siz.xsiz, siz.ysiz)
    return Jp2Header(
        siz.xsiz, siz.ysiz, bands, siz.bitdepth[0], cod.num_res + 1, (siz.xtsiz, siz.ytsiz) if tiled else None
    )


def set_decode_threads(threads: int) -> None:
    """Threads OpenJPEG decodes one window with (IIIF_PIXEL_THREADS, as for libvips; glymur's one option)."""
    glymur.set_option("lib.num_threads", max(1, threads))


def _as_image(samples: np.ndarray, bits: int) -> pyvips.Image:
    """Decoded samples as an 8-bit or 16-bit pyvips image of the right interpretation."""
    if samples.ndim == 2:
        samples = samples[:, :, np.newaxis]
    if bits not in (8, 16):  # scaled to the full range of the 8 or 16 bits they are stored in
        wide = 8 if bits < 8 else 16
        samples = (samples.astype(np.uint32) * ((2**wide - 1) / (2**bits - 1))).round()
        samples = samples.astype(np.uint8 if wide == 8 else np.uint16)
    image = pyvips.Image.new_from_array(np.ascontiguousarray(samples))
    grey = image.bands <= 2
    if image.format == "ushort":
        return image.copy(interpretation="grey16" if grey else "rgb16")
    return image.copy(interpretation="b-w" if grey else "srgb")


def decode(path: Path, header: Jp2Header, reduce: int, window: tuple[int, int, int, int]) -> pyvips.Image:
    """The pixels `x, y, w, h` of the level with `reduce` resolutions discarded, decoded alone (501 with
    OpenJPEG's reason for a corrupt or truncated file)."""
    x, y, w, h = window
    step = 2**reduce
    rows = slice(y * step, min(header.height, (y + h) * step), step)
    columns = slice(x * step, min(header.width, (x + w) * step), step)
    try:
        samples = glymur.Jp2k(str(path))[rows, columns]
    except DECODER_ERRORS as error:
        raise undecodable(path, error) from error
    if samples.shape[:2] != (h, w):
        reason = f"decoded {samples.shape[1]}x{samples.shape[0]} pixels for a {w}x{h} window"
        raise IIIFError(501, f"cannot decode {path.name}: {reason}", "identifier")
    return _as_image(samples, header.bits)
