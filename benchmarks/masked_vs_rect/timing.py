"""Time a `poly:` mask against the plain rectangle of the same box, side by side, through the pipeline.

    python -m benchmarks.masked_vs_rect.timing [--rounds 15] [--warmup 3] [--image PAGE.tif]

Each case is one region of the 6000x8000 pyramidal sample page, requested once as `x,y,w,h` and once as
a slanted polygon whose bounding box is that rectangle, at several sizes and formats. A request is run
as the server runs it, in process and without HTTP: parse the URL segments, plan, render to bytes.
Rounds interleave the two requests of every case (alternating which goes first); the table gives
medians after the warm-up rounds and the ratio masked / rectangle. The goal is a ratio of at most 1.3.
"""

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pyvips

from extensions.masking import masking_extension
from iiif_server.convert import convert_to_pyramid
from iiif_server.formats import EncodeOptions
from iiif_server.image_request import parse_image_request
from iiif_server.pipeline import render
from iiif_server.plan import plan
from iiif_server.samples import SAMPLE_LINES, document_page
from iiif_server.settings import DEFAULT_IMAGE_ROOT, Limits
from iiif_server.sources import FolderSource

Point = tuple[int, int]


@dataclass(frozen=True)
class Shape:
    """A named slanted quadrilateral; its bounding box is the rectangle it is compared with."""

    name: str
    points: tuple[Point, Point, Point, Point]

    @property
    def rectangle(self) -> str:
        xs, ys = [x for x, _ in self.points], [y for _, y in self.points]
        return f"{min(xs)},{min(ys)},{max(xs) - min(xs)},{max(ys) - min(ys)}"

    @property
    def polygon(self) -> str:
        return "poly:" + ",".join(f"{x},{y}" for x, y in self.points)


SHAPES = (
    # The first text line of the sample page (12 pt at 300 dpi from x=500, y=500), slanted by 20 px.
    Shape("text line 1260x90", ((470, 500), (1730, 480), (1730, 550), (470, 570))),
    # A block of lines, slanted by 120 px, most of the page's width.
    Shape("block 5000x1200", ((500, 1700), (5500, 1580), (5500, 2660), (500, 2780))),
)
SIZES = ("max", "pct:50", "!300,300")
FORMATS = ("png", "jpg")


def ensure_page(path: Path) -> Path:
    """The sample page, written (as `iiif-server samples` does) when it is missing."""
    if not path.exists():
        print(f"writing {path} (6000x8000 pyramid, about a minute)")
        flat = path.with_name(".page1-flat.v")
        document_page(6000, 8000, SAMPLE_LINES)[0].write_to_file(str(flat))
        convert_to_pyramid(flat, path)
        flat.unlink()
    return path


class Renderer:
    """Renders IIIF URL segments of one folder the way the server does, minus HTTP."""

    def __init__(self, folder: Path) -> None:
        self.source = FolderSource(folder, 1_000_000_000, 64)
        self.syntaxes = {prefix: s.parse for prefix, s in masking_extension().region_syntaxes.items()}
        self.options = EncodeOptions()
        self.limits = Limits()

    def __call__(self, identifier: str, region: str, size: str, fmt: str) -> bytes:
        request = parse_image_request(identifier, region, size, "0", f"default.{fmt}", self.syntaxes)
        source = self.source.describe(identifier)
        image_plan = plan(request, source.width, source.height, self.limits)
        return render(source, self.source, image_plan, self.options)


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def run(image: Path, rounds: int, warmup: int) -> list[tuple[str, str, str, float, float]]:
    """For every case, the median seconds of the rectangle and of the mask."""
    renderer = Renderer(image.parent)
    identifier = image.stem
    cases = [(shape, size, fmt) for shape in SHAPES for size in SIZES for fmt in FORMATS]
    times: dict[tuple[int, str], list[float]] = {}
    for round_index in range(warmup + rounds):
        for case_index, (shape, size, fmt) in enumerate(cases):
            pair = [("rect", shape.rectangle), ("mask", shape.polygon)]
            if (round_index + case_index) % 2:
                pair.reverse()
            for kind, region in pair:
                seconds = timed(renderer, identifier, region, size, fmt)
                if round_index >= warmup:
                    times.setdefault((case_index, kind), []).append(seconds)
    return [
        (
            shape.name,
            size,
            fmt,
            statistics.median(times[(index, "rect")]),
            statistics.median(times[(index, "mask")]),
        )
        for index, (shape, size, fmt) in enumerate(cases)
    ]


def table(rows: list[tuple[str, str, str, float, float]]) -> str:
    lines = [
        "| region | size | format | rectangle (ms) | poly mask (ms) | masked / rectangle |",
        "|---|---|---|---:|---:|---:|",
    ]
    for name, size, fmt, rect, mask in rows:
        cells = (name, f"`{size}`", fmt, f"{rect * 1000:.2f}", f"{mask * 1000:.2f}", f"{mask / rect:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--image", type=Path, default=DEFAULT_IMAGE_ROOT / "page1.tif")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="libvips threads (the server's default)")
    args = parser.parse_args()
    pyvips.concurrency_set(args.threads)
    rows = run(ensure_page(args.image), args.rounds, args.warmup)
    print(f"libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}, {args.threads} threads, ")
    print(f"{args.rounds} rounds after {args.warmup} warm-up rounds, medians\n")
    print(table(rows))
    worst = max(mask / rect for *_, rect, mask in rows)
    print(f"\nworst ratio {worst:.2f} (goal: at most 1.30)")


if __name__ == "__main__":
    main()
