"""Time distinct `poly:` text lines and blocks against their bounding rectangles, side by side in one run.

    python -m benchmarks.masks_vs_rects [--rounds 4] [--image PAGE.tif] [--threads 4]

The lines are the sample page's 77 true lines (`page1.gt.xml`), each a quadrilateral around its ink slanted
by 8 px, asked for as PNG at full size; the blocks are runs of six lines slanted by 120 px, asked for as
JPEG at `pct:25`. Every round moves every region by one more pixel, so no URL repeats (no cache of polygons,
masks or libvips operations answers twice), and runs each region's rectangle and mask back to back, swapping
which goes first; the blocks run as many rounds as give about as many pairs as the lines' rounds. A request
runs as the server runs it, in process and without HTTP: parse, plan, render.
The figures are total masked seconds / total rectangle seconds per workload (goal: at most 1.15), by
wall-clock and by the process's CPU time (steadier on a shared machine).
"""

import argparse
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyvips

from benchmarks.masked_vs_rect.timing import Renderer, ensure_page
from extensions.annotations.page_xml import parse
from iiif_server.settings import DEFAULT_IMAGE_ROOT

Box = tuple[int, int, int, int]
GOAL = 1.15


@dataclass(frozen=True)
class Workload:
    """Regions cut as slanted quadrilaterals (`slant` px drop over their width), at one size and format."""

    name: str
    boxes: tuple[Box, ...]
    slant: int
    size: str
    format: str

    def pairs(self, shift: int) -> Iterator[tuple[str, str]]:
        """(rectangle, polygon) URL regions of every box, moved right and down by `shift` pixels."""
        for x, y, w, h in self.boxes:
            x, y = x + shift, y + shift
            quad = ((x, y + self.slant), (x + w, y), (x + w, y + h - self.slant), (x, y + h))
            yield f"{x},{y},{w},{h}", "poly:" + ",".join(f"{px},{py}" for px, py in quad)


def line_boxes(ground_truth: Path, grow: int = 8) -> list[Box]:
    """The true lines' ink boxes, grown by `grow` pixels a side."""
    boxes = []
    for region in parse(ground_truth.read_bytes()):
        if region.region_type != "TextLine":
            continue
        xs, ys = [x for x, _ in region.polygon], [y for _, y in region.polygon]
        x0, y0 = int(min(xs)) - grow, int(min(ys)) - grow
        boxes.append((x0, y0, int(max(xs)) + grow - x0, int(max(ys)) + grow - y0))
    return boxes


def block_boxes(lines: list[Box], per_block: int = 6, width: int = 5000) -> list[Box]:
    """Runs of `per_block` consecutive lines, `width` pixels wide."""
    blocks = []
    for start in range(0, len(lines) - per_block + 1, per_block):
        first, last = lines[start], lines[start + per_block - 1]
        blocks.append((first[0], first[1], width, last[1] + last[3] - first[1]))
    return blocks


Totals = dict[str, list[float]]
"""Seconds by kind (`rect`, `mask`): [wall-clock, process CPU (all threads)]."""


def measure(renderer: Renderer, identifier: str, workload: Workload, shifts: range, totals: Totals) -> int:
    """Add the wall-clock and CPU seconds of one round per shift to `totals`; the number of pairs run."""
    count = 0
    for shift in shifts:
        for index, (rectangle, polygon) in enumerate(workload.pairs(shift)):
            pair = [("rect", rectangle), ("mask", polygon)]
            if (shift + index) % 2:
                pair.reverse()
            for kind, region in pair:
                wall, cpu = time.perf_counter(), time.process_time()
                renderer(identifier, region, workload.size, workload.format)
                seconds = totals.setdefault(kind, [0.0, 0.0])
                seconds[0] += time.perf_counter() - wall
                seconds[1] += time.process_time() - cpu
            count += 1
    return count


def even_rounds(pairs: int, regions: int) -> int:
    """The even number of rounds of `regions` regions that makes at least `pairs` pairs: the blocks, six times
    fewer than the lines, get as many requests (a steadier ratio) and each region goes first half the time."""
    rounds = -(-pairs // regions)
    return rounds + rounds % 2


def row(workload: Workload, totals: Totals, count: int) -> str:
    """One table row: ms per request and masked / rectangle, by wall-clock and by CPU time."""
    (rect_wall, rect_cpu), (mask_wall, mask_cpu) = totals["rect"], totals["mask"]
    cells = (workload.name, f"`{workload.size}`", workload.format, str(count))
    figures = [f"{seconds / count * 1000:.2f}" for seconds in (rect_wall, mask_wall)]
    ratios = (f"{mask_wall / rect_wall:.2f}", f"{mask_cpu / rect_cpu:.2f}")
    return "| " + " | ".join((*cells, *figures, *ratios)) + " |"


HEADER = (
    "| workload | size | format | pairs | rectangle ms | mask ms | masked / rectangle | same, CPU time |\n"
    "|---|---|---|---:|---:|---:|---:|---:|"
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE_ROOT / "page1.tif")
    parser.add_argument(
        "--rounds", type=int, default=4, help="rounds of the lines after one warm-up round (even)"
    )
    parser.add_argument("--threads", type=int, default=4, help="libvips threads (the server's default)")
    args = parser.parse_args()
    pyvips.concurrency_set(args.threads)
    image = ensure_page(args.image)
    lines = line_boxes(image.with_name(f"{image.stem}.gt.xml"))
    workloads = (
        Workload("distinct text lines", tuple(lines), 8, "max", "png"),
        Workload("distinct slanted blocks", tuple(block_boxes(lines)), 120, "pct:25", "jpg"),
    )
    renderer = Renderer(image.parent)
    threads = f"{args.threads} threads"
    print(f"libvips {pyvips.version(0)}.{pyvips.version(1)}, {threads}, {args.rounds} rounds of the lines\n")
    print(HEADER)
    for workload in workloads:
        measure(renderer, image.stem, workload, range(1), {})  # warm-up, at a shift the rounds do not use
        totals: Totals = {}
        rounds = even_rounds(args.rounds * len(lines), len(workload.boxes))
        count = measure(renderer, image.stem, workload, range(1, rounds + 1), totals)
        print(row(workload, totals, count))
    print(f"\ngoal: masked / rectangle at most {GOAL}")


if __name__ == "__main__":
    main()
