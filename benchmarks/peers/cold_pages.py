"""Write the many pages of the cold workloads (`cold_workloads.py`): each page as two JPEG-tiled pyramidal
TIFFs, 256 px and 512 px tiles, quality 90 (`iiif-server convert`'s), and their sizes in `cold/sizes.json`.

    .venv/bin/python -m benchmarks.peers.cold_pages benchmarks/.data --count 100

The pages are real scans when `--source` holds JPEGs (default: `../shared/ocr-train/images`, read in place,
never copied into the repository), else generated document pages of assorted (odd) sizes. Pages already
written are kept.
"""

import argparse
import json
from pathlib import Path

import pyvips

from iiif_server.convert import convert_to_pyramid
from iiif_server.samples import SAMPLE_LINES, document_page

ROOT = Path(__file__).resolve().parents[2]
REAL_PAGES = ROOT.parent / "shared" / "ocr-train" / "images"
TILE_SIZES = (256, 512)


def generated(folder: Path, count: int) -> list[Path]:
    """`count` generated document pages of assorted sizes, as flat libvips files in `folder`."""
    pages = []
    for index in range(count):
        path = folder / f"generated-{index:03}.v"
        if not path.exists():
            width, height = 1801 + 97 * (index % 9), 2403 + 131 * (index % 7)
            document_page(width, height, SAMPLE_LINES, seed=index)[0].write_to_file(str(path))
        pages.append(path)
    return pages


def make_pages(data: Path, count: int, source: Path) -> dict[str, list[int]]:
    """Both pyramids of up to `count` pages under `data/cold/tiles256` and `tiles512`; their sizes by name."""
    cold = data / "cold"
    sizes_file = cold / "sizes.json"
    if sizes_file.exists():
        sizes = json.loads(sizes_file.read_text())
        if len(sizes) >= count:
            return sizes
    scratch = cold / "flat"
    scratch.mkdir(parents=True, exist_ok=True)
    real = sorted(source.glob("*.jpg"))[:count] if source.is_dir() else []
    pages = real or generated(scratch, count)
    sizes = {}
    for page in pages:
        for tile in TILE_SIZES:
            target = cold / f"tiles{tile}" / f"{page.stem}.tif"
            if not target.exists():
                convert_to_pyramid(page, target, tile_size=tile, quality=90)
        image = pyvips.Image.new_from_file(str(page))
        sizes[page.stem] = [image.width, image.height]
    sizes_file.write_text(json.dumps(sizes, indent=1))
    return sizes


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data", type=Path, nargs="?", default=ROOT / "benchmarks" / ".data")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--source", type=Path, default=REAL_PAGES)
    arguments = parser.parse_args()
    written = make_pages(arguments.data, arguments.count, arguments.source)
    print(f"{len(written)} pages in {arguments.data / 'cold'}")
