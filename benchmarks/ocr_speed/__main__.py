"""Time Stage 1 and Stage 2 on the real pages of `../shared/ocr-train`, configurations side by side.

    python -m benchmarks.ocr_speed [--split dev] [--datasets ehri-da …] [--limit 2]
        [--config NAME:VAR=VALUE[,VAR=VALUE…] …]

Each configuration is the server at its defaults plus its variables (for example
`int8:IIIF_ONNX_REC_MANIFEST=runs/quantized/ppocrv4-rec-int8.json` or `one-thread:IIIF_ONNX_INTRA_THREADS=1`),
built in process with its models loaded first (IIIF_OCR_WARM_UP). For each page, every configuration in turn
answers `regions.json` (Stage 1: the page read and its lines found) and then `ocr.json` (Stage 2: every line
cut and read; Stage 1 comes from its cache), both the first, uncached time. The table gives the mean seconds
per page (wall-clock; and the process's CPU time, steadier on a shared machine) and per 6 megapixels (a
2000x3000 page) by configuration; `default` always runs first. Where Tesseract is installed with the pages'
languages (`benchmarks/real_pages/setup.sh`), it reads the same pages in the same run (`--no-tesseract`: not),
one thread as in `benchmarks.real_pages`, and the last line gives each configuration's time over Tesseract's.
"""

import argparse
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyvips
from starlette.testclient import TestClient

from benchmarks.real_pages.pages import SPLITS, PageEntry, read_manifest, select_pages
from benchmarks.real_pages.tesseract_ocr import LANGUAGES, missing_tesseract, read_with_tesseract
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPOSITORY.parent / "shared" / "ocr-train"
PAGE_PIXELS = 2000 * 3000


@dataclass
class Timings:
    """One configuration's seconds per page, Stage 1 and Stage 2 (wall-clock, and the process's CPU time, all
    threads: steadier on a shared machine), and the pages' pixels and lines."""

    stage1: list[float] = field(default_factory=list)
    stage2: list[float] = field(default_factory=list)
    cpu1: list[float] = field(default_factory=list)
    cpu2: list[float] = field(default_factory=list)
    pixels: list[int] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def row(self, name: str) -> str:
        """A table row: mean seconds per page and per 2000x3000 page."""
        pages, megapixels = len(self.stage1), sum(self.pixels) / PAGE_PIXELS
        one, two = sum(self.stage1), sum(self.stage2)
        cpu = (sum(self.cpu1) + sum(self.cpu2)) / pages
        figures = (one / pages, two / pages, (one + two) / pages, cpu, (one + two) / megapixels)
        cells = [name, str(pages), f"{sum(self.lines) / pages:.0f}", *(f"{value:.2f}" for value in figures)]
        return "| " + " | ".join(cells) + " |"


HEADER = (
    "| configuration | pages | lines/page | Stage 1 s/page | Stage 2 s/page | total s/page "
    "| total CPU s/page | total s per 2000x3000 |\n|---|---:|---:|---:|---:|---:|---:|---:|"
)


def configurations(specs: Sequence[str]) -> dict[str, dict[str, str]]:
    """`default` and each `NAME:VAR=VALUE,…` as its variables."""
    chosen: dict[str, dict[str, str]] = {"default": {}}
    for spec in specs:
        name, _, assignments = spec.partition(":")
        chosen[name] = dict(item.split("=", 1) for item in assignments.split(",") if item)
    return chosen


def timed_get(client: TestClient, url: str) -> tuple[float, float, dict]:
    """Wall-clock and CPU seconds for one GET that must succeed, and its JSON."""
    start, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")
    return seconds, cpu, response.json()


def run(pages: Sequence[PageEntry], configs: dict[str, dict[str, str]]) -> dict[str, Timings]:
    """Every page through every configuration in turn."""
    images = str(pages[0].image.parent)
    clients = {}
    for name, variables in configs.items():
        env = {"IIIF_IMAGE_ROOT": images, "IIIF_OCR_WARM_UP": "1", **variables}
        clients[name] = TestClient(create_server_app(ServerSettings.from_env(env))).__enter__()
    timings = {name: Timings() for name in configs}
    for page in pages:
        header = pyvips.Image.new_from_file(str(page.image))
        for name, client in clients.items():
            stage1, cpu1, _ = timed_get(client, f"/iiif/3/{page.id}/regions.json")
            stage2, cpu2, read = timed_get(client, f"/iiif/3/{page.id}/ocr.json")
            found = timings[name]
            found.stage1.append(stage1)
            found.stage2.append(stage2)
            found.cpu1.append(cpu1)
            found.cpu2.append(cpu2)
            found.pixels.append(header.width * header.height)
            found.lines.append(len(read["items"]))
            print(
                f"{page.id} {name}: Stage 1 {stage1:.2f} s ({cpu1:.2f} CPU), Stage 2 {stage2:.2f} s",
                flush=True,
            )
    for client in clients.values():
        client.__exit__(None, None, None)
    return timings


def child_cpu() -> float:
    """CPU seconds of this process's finished children (Tesseract runs)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def tesseract_timings(pages: Sequence[PageEntry]) -> Timings:
    """Tesseract's seconds per page (all in the Stage 1 column: it finds and reads lines in one run)."""
    found = Timings()
    for page in pages:
        cpu = child_cpu()
        reading = read_with_tesseract(page.image, LANGUAGES[page.dataset])
        header = pyvips.Image.new_from_file(str(page.image))
        found.stage1.append(reading.seconds)
        found.stage2.append(0.0)
        found.cpu1.append(child_cpu() - cpu)
        found.cpu2.append(0.0)
        found.pixels.append(header.width * header.height)
        found.lines.append(len(reading.lines))
        print(f"{page.id} tesseract: {reading.seconds:.2f} s", flush=True)
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with manifest.tsv")
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--datasets", nargs="+", default=[])
    parser.add_argument("--limit", type=int, help="at most this many pages per data set")
    parser.add_argument("--config", nargs="+", default=[], metavar="NAME:VAR=VALUE,…")
    parser.add_argument("--no-tesseract", action="store_true", help="leave out Tesseract")
    args = parser.parse_args(argv)
    pages = select_pages(read_manifest(args.data), args.split, args.datasets, args.limit)
    timings = run(pages, configurations(args.config))
    missing = "--no-tesseract" if args.no_tesseract else missing_tesseract({page.dataset for page in pages})
    if missing is None:
        timings["tesseract"] = tesseract_timings(pages)
    print("\n" + HEADER)
    for name, found in timings.items():
        print(found.row(name))
    if missing is None:
        tesseract = sum(timings["tesseract"].stage1)
        ratios = (f"{name} {(sum(t.stage1) + sum(t.stage2)) / tesseract:.2f}x" for name, t in timings.items())
        print(f"\ntime over Tesseract's (1 thread) on the same pages: {', '.join(list(ratios)[:-1])}")
    else:
        print(f"\nno Tesseract column: {missing}")


if __name__ == "__main__":
    main()
