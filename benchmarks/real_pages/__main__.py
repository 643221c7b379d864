"""Score the project's server and Tesseract on real scanned pages with ALTO ground truth.

    python -m benchmarks.real_pages [--data ../shared/ocr-train] [--split dev|train|all]
        [--datasets gallica18-fr ehri-de …] [--limit N] [--out benchmarks/results/real_pages] [--no-tesseract]
        [--server-env IIIF_ONNX_LAYOUT_MANIFEST=none …]

Writes results.md, results.json and results.png into --out and prints the tables (benchmarks/README.md).
"""

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

from models.evaluation.reports import write_report

from .ground_truth import truth_lines
from .lines import TruthLine
from .page_scores import PageScores, score_page
from .pages import SPLITS, PageEntry, read_manifest, select_pages
from .report import json_record, markdown, plot
from .server_ocr import read_with_server
from .summary import by_dataset
from .tesseract_ocr import LANGUAGES, missing_tesseract, read_with_tesseract, tesseract_version

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPOSITORY.parent / "shared" / "ocr-train"
DEFAULT_OUT = REPOSITORY / "benchmarks" / "results" / "real_pages"


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with manifest.tsv")
    parser.add_argument("--split", choices=SPLITS, default="dev")
    parser.add_argument("--datasets", nargs="+", default=[], help="data sets to run (default: all)")
    parser.add_argument("--limit", type=int, help="at most this many pages per data set")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--no-tesseract", action="store_true", help="leave out the Tesseract column")
    parser.add_argument(
        "--server-env", nargs="+", default=[], metavar="NAME=VALUE", help="settings of the server under test"
    )
    return parser.parse_args(argv)


def server_scores(
    pages: Sequence[PageEntry], truth: dict[str, list[TruthLine]], env: dict[str, str]
) -> list[PageScores]:
    """Every page read by the server (with the settings `env` adds), in order, scored."""
    folders = {page.image.parent for page in pages}
    if len(folders) != 1:
        raise ValueError(f"the server serves one folder; the pages' images are in {sorted(folders)}")
    entries = {page.image.stem: page for page in pages}
    scores = []
    for identifier, reading in read_with_server(folders.pop(), list(entries), env):
        page = entries[identifier]
        scores.append(_reported("server", score_page(page.id, page.dataset, truth[page.id], reading)))
    return scores


def tesseract_scores(pages: Sequence[PageEntry], truth: dict[str, list[TruthLine]]) -> list[PageScores]:
    """Every page read by Tesseract in its data set's languages, scored."""
    return [
        _reported(
            "tesseract",
            score_page(
                page.id,
                page.dataset,
                truth[page.id],
                read_with_tesseract(page.image, LANGUAGES[page.dataset]),
            ),
        )
        for page in pages
    ]


def _reported(engine: str, page: PageScores) -> PageScores:
    """Print one page's line counts and time as it is done, and pass it on."""
    counts = f"{page.truth_lines:3d} true, {page.found_lines:3d} found, {page.baseline_matches:3d} matched"
    print(f"{engine:9s} {page.dataset:12s} {page.page:28s} {counts}, {page.seconds:6.1f} s", flush=True)
    return page


def main(argv: Sequence[str] | None = None) -> None:
    """Select the pages, read them with each engine, score and write the results."""
    args = arguments(argv)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    manifest = read_manifest(args.data)
    unknown = set(args.datasets) - {page.dataset for page in manifest}
    if unknown:
        raise SystemExit(f"no such data sets in {args.data}: {', '.join(sorted(unknown))}")
    pages = select_pages(manifest, args.split, args.datasets, args.limit)
    if not pages:
        raise SystemExit(f"no pages in split {args.split} of {args.data}")
    truth = {page.id: truth_lines(page.gt.read_bytes()) for page in pages}
    env = dict(setting.partition("=")[::2] for setting in args.server_env)
    engines = {"server": server_scores(pages, truth, env)}
    settings = ", ".join(args.server_env) or "its default settings"
    notes = [f"server: iiif-server serve at {settings}, models loaded at start (IIIF_OCR_WARM_UP=1)"]
    if not args.no_tesseract:
        missing = missing_tesseract({page.dataset for page in pages})
        if missing:
            print(f"note: {missing}; the Tesseract column is left out")
            notes.append(f"tesseract left out: {missing}")
        else:
            languages = ", ".join(f"{name} `{codes}`" for name, codes in LANGUAGES.items())
            notes.append(f"{tesseract_version()}, OMP_THREAD_LIMIT=1, ALTO output; languages: {languages}")
            engines["tesseract"] = tesseract_scores(pages, truth)
    summaries = {engine: by_dataset(scores) for engine, scores in engines.items()}
    seconds = time.perf_counter() - started
    notes.append(
        f"1-minute load average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end, "
        f"{os.cpu_count()} CPUs (the seconds per page are wall-clock)"
    )
    limit = f", at most {args.limit} per data set" if args.limit else ""
    heading = (
        f"Real pages: {len(pages)} pages of split `{args.split}` of `{args.data.name}`{limit}; "
        f"run took {seconds / 60:.1f} min.\n\n" + "".join(f"- {note}\n" for note in notes) + "\n"
    )
    run = {"split": args.split, "limit": args.limit, "pages": [page.id for page in pages], "notes": notes}
    record = json_record({**run, "seconds": seconds}, summaries, engines)
    tables = markdown(summaries)
    write_report(args.out, "results", record, heading + tables)
    plot(summaries, args.out / "results.png")
    print(f"\n{heading}{tables}\nwrote {args.out}/results.md, results.json, results.png")


if __name__ == "__main__":
    main()
