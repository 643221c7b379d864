"""The A/B: the same recognisers on the same held-out lines, cut by the rectangle and by the polygon mask.

    python -m benchmarks.masked_vs_rect.ocr_ab [--pages 40] [--seed 5] [--max-minutes 12]
        [--config benchmarks/masked_vs_rect/crnn.yaml] [--out benchmarks/results/masked_vs_rect]
        [--work runs/ab]

Synthetic pages (known text, line polygons) are made once; two datasets are built from them in process by
masked IIIF URL, the same lines and splits, one cut by the line's bounding rectangle and one by its polygon
(both grown by the same margin and levelled the same way). A CRNN is trained on each; the shipped PP-OCRv4
recogniser and both CRNNs then read the held-out lines of both datasets. Writes `ab.json` and `ab.md` (CER,
WER, exact match and the number of lines per cell, overall and per kind of line, with a paired bootstrap
95 % interval of the CER change) into `--out`, and prints the table. A CRNN already trained in `--work` with
the same config is kept.
"""

import argparse
import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import yaml

from models.dataset.builder import BuildOptions, BuildSummary, build_dataset
from models.dataset.fetcher import IN_PROCESS, CropFetcher, in_process_transport
from models.dataset.masked_url import CROP_KINDS, CropOptions
from models.dataset.records import LineRecord, read_dataset
from models.evaluation.line_groups import line_groups
from models.evaluation.paired_bootstrap import cer_change_interval
from models.evaluation.stage2_eval import read_lines
from models.evaluation.text_metrics import LineText, TextScores, grouped_scores, text_scores
from models.synthetic.pages import generate_pages
from ocr_onnx.manifest import MANIFEST_DIR
from ocr_onnx.sessions import ModelRegistry, OnnxSettings

SHIPPED = "PP-OCRv4 (shipped, trained on rectangles)"
GROUPING = "synthetic.kind"
SPLITS = {"train": 0.7, "val": 0.1, "test": 0.2}  # by page: a fifth of the pages are held out
MARGIN = 4.0  # pixels around each line polygon: PP-OCRv4 drops the spaces of tighter crops


def build_datasets(pages: Path, out: Path, seed: int) -> dict[str, Path]:
    """One dataset per crop kind from the same annotation files, splits and levelling."""
    folders = {}
    for kind in CROP_KINDS:
        folder = out / f"dataset-{kind}"
        crop = CropOptions(kind, deskew=True, margin=MARGIN)
        options = BuildOptions(crop, ratios=SPLITS, seed=seed, progress=False)
        summary = asyncio.run(_build(sorted(pages.glob("*.page.xml")), folder, pages, options))
        print(f"{kind} dataset: {summary.text()}")
        folders[kind] = folder
    return folders


async def _build(
    annotations: Sequence[Path], folder: Path, pages: Path, options: BuildOptions
) -> BuildSummary:
    async with CropFetcher(None, in_process_transport(pages), 3, 60.0, 4) as fetcher:
        return await build_dataset(annotations, folder, fetcher, IN_PROCESS, options)


def train_crnns(
    datasets: dict[str, Path], config: Path, out: Path, max_minutes: float, device: str
) -> dict[str, Path]:
    """A CRNN trained on each dataset with the same config; their manifests by crop kind."""
    from models.stage2.train import MANIFEST, METRICS, run

    manifests = {}
    base = yaml.safe_load(config.read_text(encoding="utf-8"))
    for kind, folder in datasets.items():
        settings = {**base, "name": f"crnn-ab-{kind}", "data": {"dataset": str(folder.resolve())}}
        settings["training"] = {**base.get("training", {}), "max_minutes": max_minutes}
        text = yaml.safe_dump(settings, sort_keys=False)
        written, trained = out / f"stage2-{kind}.yaml", out / f"crnn-{kind}"
        finished = (trained / METRICS).is_file() and written.is_file()
        if finished and written.read_text(encoding="utf-8") == text:
            print(f"{kind} CRNN: kept from an earlier run with the same config ({trained})")
            manifests[kind] = trained / MANIFEST
            continue
        written.write_text(text, encoding="utf-8")
        manifests[kind] = run(written, trained, device)
    return manifests


def score_cells(recognisers: dict[str, Path], datasets: dict[str, Path]) -> dict[str, dict[str, dict]]:
    """Every recogniser on the held-out lines that both datasets have, cut each way."""
    tests = {kind: _test_lines(folder) for kind, folder in datasets.items()}
    shared = set.intersection(*(set(records) for _, records in tests.values()))
    cells: dict[str, dict[str, dict]] = {}
    for name, manifest in recognisers.items():
        recognizer = ModelRegistry(OnnxSettings(recognition_manifest=manifest)).recognizer()
        read_by_kind: dict[str, dict[str, list[LineText]]] = {}
        for kind, (folder, by_id) in tests.items():
            info, _ = read_dataset(folder)
            records = [by_id[line] for line in sorted(shared)]
            read = read_lines(folder, info, records, recognizer)
            lines = [
                LineText(r.text, result.text, line_groups(r.properties, r.region_type, r.polygon))
                for r, result in zip(records, read, strict=True)
            ]
            read_by_kind[kind] = {"all": lines, **_members(lines)}
            cells.setdefault(name, {})[kind] = {
                group: asdict(text_scores(members)) for group, members in read_by_kind[kind].items()
            }
        cells[name]["cer_change_95"] = {
            group: cer_change_interval(rect, read_by_kind["mask"][group])
            for group, rect in read_by_kind["rect"].items()
        }
    return cells


def _members(lines: list[LineText]) -> dict[str, list[LineText]]:
    """The lines of each kind (straight, slanted, rotated, curved), in the order grouped_scores gives."""
    order = grouped_scores(lines).get(GROUPING, {})
    return {group: [line for line in lines if line.groups.get(GROUPING) == group] for group in order}


def _test_lines(folder: Path) -> tuple[Path, dict[str, LineRecord]]:
    _, records = read_dataset(folder)
    return folder, {record.id: record for record in records if record.split == "test"}


def table(cells: dict[str, dict[str, dict]]) -> str:
    """Markdown: one row per recogniser and kind of line, rectangle and mask side by side."""
    rows = [
        "| recogniser | lines | n | CER rect | CER mask | change | mask - rect, 95 % CI | WER rect "
        "| WER mask | exact rect | exact mask |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for name, by_kind in cells.items():
        for group in by_kind["rect"]:
            rect, mask = TextScores(**by_kind["rect"][group]), TextScores(**by_kind["mask"][group])
            change = f"{(mask.cer - rect.cer) / rect.cer:+.0%}" if rect.cer else "n/a"
            low, high = by_kind["cer_change_95"][group]
            rows.append(
                f"| {name} | {group} | {rect.lines} | {rect.cer:.4f} | {mask.cer:.4f} | {change} | "
                f"{low:+.4f} to {high:+.4f} | {rect.wer:.4f} | {mask.wer:.4f} | {rect.exact_match:.1%} "
                f"| {mask.exact_match:.1%} |"
            )
    return "\n".join(rows)


def main() -> None:
    """Make the pages and datasets, train both CRNNs, score every cell, write and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=40, help="synthetic pages (all splits)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--config", type=Path, default=Path("benchmarks/masked_vs_rect/crnn.yaml"))
    parser.add_argument("--max-minutes", type=float, default=12.0, help="training time of each CRNN")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/masked_vs_rect"))
    parser.add_argument("--work", type=Path, default=Path("runs/ab"), help="pages, datasets and models")
    args = parser.parse_args()
    work = args.work
    args.out.mkdir(parents=True, exist_ok=True)
    pages = work / "pages"
    if not any(pages.glob("*.page.xml")):
        generate_pages(pages, args.pages, args.seed)
    datasets = build_datasets(pages, work, args.seed)
    manifests = train_crnns(datasets, args.config, work, args.max_minutes, args.device)
    recognisers = {
        SHIPPED: MANIFEST_DIR / "ppocrv4_rec.json",
        "CRNN trained on rectangle crops": manifests["rect"],
        "CRNN trained on masked crops": manifests["mask"],
    }
    cells = score_cells(recognisers, datasets)
    markdown = table(cells)
    counts = {kind: read_dataset(folder)[0].counts for kind, folder in datasets.items()}
    report = {
        "pages": args.pages,
        "seed": args.seed,
        "config": str(args.config),
        "counts": counts,
        "cells": cells,
    }
    (args.out / "ab.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "ab.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
