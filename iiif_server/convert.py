"""Turn any image libvips can read, or a JPEG 2000, into a tiled, JPEG-compressed pyramidal TIFF."""

from pathlib import Path

import pyvips

from . import jpeg2000


def open_source(source: Path) -> pyvips.Image:
    """The image to convert: read by libvips as it is written, or (JPEG 2000, which the wheel's libvips does
    not read) decoded whole through OpenJPEG."""
    if source.suffix.lower() in jpeg2000.SUFFIXES:
        header = jpeg2000.read_header(source)
        return jpeg2000.decode(source, header, 0, (0, 0, header.width, header.height))
    return pyvips.Image.new_from_file(str(source), access="sequential")


def convert_to_pyramid(source: Path, target: Path, tile_size: int = 512, quality: int = 90) -> Path:
    """Write `target` as a tiled pyramidal TIFF (BigTIFF when large) and return its path."""
    image = open_source(source)
    compression = "deflate" if image.hasalpha() or image.bands not in (1, 3) else "jpeg"
    target.parent.mkdir(parents=True, exist_ok=True)
    image.tiffsave(
        str(target),
        tile=True,
        tile_width=tile_size,
        tile_height=tile_size,
        pyramid=True,
        compression=compression,
        Q=quality,
        bigtiff=image.width * image.height * image.bands > 2**31,
    )
    return target
