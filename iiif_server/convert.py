"""Turn any image libvips can read into a tiled, JPEG-compressed pyramidal TIFF."""

from pathlib import Path

import pyvips


def convert_to_pyramid(source: Path, target: Path, tile_size: int = 512, quality: int = 90) -> Path:
    """Write `target` as a tiled pyramidal TIFF (BigTIFF when large) and return its path."""
    image = pyvips.Image.new_from_file(str(source), access="sequential")
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
