"""Write the page every server in the peer comparison reads.

    python -m benchmarks.peers.make_page benchmarks/.data

- `page.tif`: a 6000x8000 document page as a tiled pyramidal TIFF, JPEG-compressed 512x512 tiles,
  quality 90 (what `iiif-server convert` writes). This project and IIPImage read it.
- `ref/page.jpg`: the same pixels as one baseline JPEG, quality 90. The reference implementation
  (PIL) reads it; PIL cannot read tiled JPEG-compressed TIFF pyramids.

Files that already exist are kept.
"""

import sys
from pathlib import Path

import pyvips

from iiif_server.convert import convert_to_pyramid
from iiif_server.samples import SAMPLE_LINES, document_page

WIDTH, HEIGHT = 6000, 8000


def make_page(folder: Path) -> tuple[Path, Path]:
    """The pyramid and the flat JPEG of the test page in `folder`."""
    jpg_dir = folder / "ref"
    jpg_dir.mkdir(parents=True, exist_ok=True)
    tif, jpg = folder / "page.tif", folder / "ref" / "page.jpg"
    if tif.exists() and jpg.exists():
        return tif, jpg
    flat = folder / ".page-flat.v"
    document_page(WIDTH, HEIGHT, SAMPLE_LINES)[0].write_to_file(str(flat))
    convert_to_pyramid(flat, tif, tile_size=512, quality=90)
    pyvips.Image.new_from_file(str(flat)).jpegsave(str(jpg), Q=90, keep="none")
    flat.unlink()
    return tif, jpg


if __name__ == "__main__":
    for path in make_page(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/.data")):
        image = pyvips.Image.new_from_file(str(path))
        print(f"{path}: {image.width}x{image.height}")
