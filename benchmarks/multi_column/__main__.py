"""Read multi-column pages made of real scans and score the server's reading order against the true one.

    python -m benchmarks.multi_column [--data ../shared/ocr-train] [--split dev] [--dataset gallica18-fr]
        [--columns 2 3] [--out benchmarks/results/multi_column] [--server-env NAME=VALUE …]

Consecutive pages of one data set become the columns of one page (`composite.py`); each page is read by
the server's `ocr.json` and scored like `benchmarks.real_pages`: page CER in the server's order against the
order-free page CER (each found line put at its true line's place), which reads every line the same; and
the same lines in rows across the page, the order the server gave before it had a page structure.
"""

import argparse
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyvips

from benchmarks.real_pages.__main__ import DEFAULT_DATA, REPOSITORY
from benchmarks.real_pages.ground_truth import truth_lines
from benchmarks.real_pages.lines import PageReading, TruthLine
from benchmarks.real_pages.page_scores import PageScores, score_page
from benchmarks.real_pages.pages import SPLITS, PageEntry, read_manifest, select_pages
from benchmarks.real_pages.report import markdown
from benchmarks.real_pages.server_ocr import read_with_server
from benchmarks.real_pages.summary import summarise
from extensions.polygon_geometry import bounds, reading_order
from models.evaluation.reports import write_report

from .composite import compose

DEFAULT_OUT = REPOSITORY / "benchmarks" / "results" / "multi_column"


def in_rows(reading: PageReading) -> PageReading:
    """The same lines in the order the server gave before it had a page structure: rows top to bottom
    across the whole page, left to right in a row."""
    return replace(reading, lines=tuple(reading_order(reading.lines, lambda line: bounds(line.polygon))))


ENGINES: dict[str, Callable[[PageReading], PageReading]] = {
    "server": lambda reading: reading,
    "server lines in rows": in_rows,
}
"""The server's reading, and the same lines in the row order of the server before its page structure."""


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with manifest.tsv")
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--dataset", default="gallica18-fr")
    parser.add_argument("--columns", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--server-env", nargs="+", default=[], metavar="NAME=VALUE")
    return parser.parse_args(argv)


def composed_pages(
    pages: Sequence[PageEntry], counts: Sequence[int], folder: Path
) -> dict[str, tuple[int, list[TruthLine]]]:
    """Write each multi-column page into `folder`; its name, number of columns and true lines."""
    composed = {}
    for columns in counts:
        for start in range(0, len(pages) - columns + 1, columns):
            group = pages[start : start + columns]
            images = [pyvips.Image.new_from_file(str(page.image)) for page in group]
            pixels, truth = compose(images, [truth_lines(page.gt.read_bytes()) for page in group])
            name = f"columns{columns}-{start // columns + 1:02d}"
            image = pyvips.Image.new_from_array(np.ascontiguousarray(pixels)).copy(interpretation="srgb")
            image.write_to_file(str(folder / f"{name}.png"))
            composed[name] = (columns, truth)
    return composed


def main(argv: Sequence[str] | None = None) -> None:
    """Compose the pages, read them with the server, score and write the results."""
    args = arguments(argv)
    pages = select_pages(read_manifest(args.data), args.split, [args.dataset])
    env = dict(setting.partition("=")[::2] for setting in args.server_env)
    scores: dict[str, dict[int, list[PageScores]]] = {e: {c: [] for c in args.columns} for e in ENGINES}
    with tempfile.TemporaryDirectory() as folder:
        composed = composed_pages(pages, args.columns, Path(folder))
        for name, reading in read_with_server(Path(folder), list(composed), env):
            columns, truth = composed[name]
            for engine, order in ENGINES.items():
                scores[engine][columns].append(score_page(name, args.dataset, truth, order(reading)))
            print(
                f"{name}: {len(truth)} true, {len(reading.lines)} found, {reading.seconds:.1f} s", flush=True
            )
    summaries = {
        engine: {f"{columns} columns": summarise(found) for columns, found in by_columns.items()}
        for engine, by_columns in scores.items()
    }
    settings = ", ".join(args.server_env) or "default settings"
    heading = (
        f"Multi-column pages made of `{args.split}` pages of `{args.dataset}`; server at {settings}.\n\n"
    )
    tables = markdown(summaries)
    write_report(
        args.out, "results", {"columns": args.columns, "settings": args.server_env}, heading + tables
    )
    print(f"\n{heading}{tables}\nwrote {args.out}/results.md")


if __name__ == "__main__":
    main()
