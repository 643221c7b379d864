"""Choose the PNG encoder settings by measurement: encode time and size of the sample page's text lines,
as rectangles (RGB) and masked (RGBA), at each zlib level and row filter.

    python -m benchmarks.masks_vs_rects.png_settings [--lines 40] [--rounds 4]

The lines are decoded once and kept in memory, so only the encoder is timed (process CPU time, steadier
than wall-clock on a shared machine); every setting is lossless.
"""

import argparse
import time
from pathlib import Path

import pyvips

from benchmarks.masked_vs_rect.timing import Renderer, ensure_page
from iiif_server.image_request import parse_image_request
from iiif_server.pipeline import cut_and_scale, mask_image
from iiif_server.plan import plan
from iiif_server.settings import DEFAULT_IMAGE_ROOT

from .__main__ import Workload, line_boxes

SETTINGS = ((4, "none"), (3, "none"), (2, "none"), (2, "up"), (1, "none"), (4, "all"))


def decoded_lines(image: Path, count: int) -> list[tuple[pyvips.Image, pyvips.Image]]:
    """The first `count` lines as (RGB pixels, mask) pairs in memory, cut as the server cuts them."""
    renderer = Renderer(image.parent)
    source = renderer.source.describe(image.stem)
    lines = Workload(
        "lines", tuple(line_boxes(image.with_name(f"{image.stem}.gt.xml"))[:count]), 8, "max", "png"
    )
    pairs = []
    for _, polygon in lines.pairs(0):
        request = parse_image_request(image.stem, polygon, "max", "0", "default.png", renderer.syntaxes)
        image_plan = plan(request, source.width, source.height, renderer.limits)
        box = image_plan.region.box
        pixels = cut_and_scale(source, renderer.source, box, image_plan.width, image_plan.height)
        mask = image_plan.region.mask.rasterize(box, image_plan.width, image_plan.height)
        pairs.append((pixels.copy_memory(), mask_image(mask)))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE_ROOT / "page1.tif")
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    pairs = decoded_lines(ensure_page(args.image), args.lines)
    seconds: dict[tuple[int, str, str], float] = {}
    sizes: dict[tuple[int, str, str], int] = {}
    for _ in range(args.rounds):
        for level, row_filter in SETTINGS:
            for kind in ("rect", "mask"):
                start = time.process_time()
                images = (pixels if kind == "rect" else pixels.bandjoin(mask) for pixels, mask in pairs)
                size = sum(
                    len(i.pngsave_buffer(compression=level, filter=row_filter, keep="none")) for i in images
                )
                key = (level, row_filter, kind)
                seconds[key] = seconds.get(key, 0.0) + time.process_time() - start
                sizes[key] = size
    count = args.rounds * len(pairs)
    print("| level | filter | RGB ms | RGB kB | RGBA ms | RGBA kB | RGBA / RGB |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for level, row_filter in SETTINGS:
        rect, mask = seconds[(level, row_filter, "rect")], seconds[(level, row_filter, "mask")]
        figures = (rect / count * 1000, sizes[(level, row_filter, "rect")] / len(pairs) / 1000)
        figures += (mask / count * 1000, sizes[(level, row_filter, "mask")] / len(pairs) / 1000, mask / rect)
        print(f"| {level} | {row_filter} | " + " | ".join(f"{value:.2f}" for value in figures) + " |")
    chosen = seconds[(2, "none", "mask")] / seconds[(3, "none", "rect")]
    grown = sizes[(2, "none", "mask")] / sizes[(3, "none", "mask")] - 1
    print(f"\nthe server's choice, RGBA at level 2 / RGB at level 3: {chosen:.2f} ({grown:+.0%} RGBA bytes)")


if __name__ == "__main__":
    main()
