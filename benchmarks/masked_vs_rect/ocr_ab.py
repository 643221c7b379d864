"""The A/B: the same recognisers on the same held-out lines, cut by the rectangle and by the polygon mask.

    python -m benchmarks.masked_vs_rect.ocr_ab [--pages 40] [--seed 5] [--seeds 0,1,2] [--max-minutes 11]
        [--config benchmarks/masked_vs_rect/crnn.yaml] [--out benchmarks/results/masked_vs_rect]
        [--work runs/ab]

Synthetic pages (known text, line polygons) are made once; two datasets are built from them in process by
masked IIIF URL, the same lines and splits, one cut by the line's bounding rectangle and one by its polygon
(both grown by the same margin and levelled the same way). A CRNN is trained on each, once per training
seed (`--seeds`: how much of a difference is the luck of one training run); the shipped PP-OCRv4
recogniser and both CRNNs then read the held-out lines of both datasets. Writes `ab.json` and `ab.md` (CER,
WER, exact match and the number of lines per cell, overall and per kind of line, with a paired bootstrap
95 % interval of the CER change) into `--out`, and prints the table. A CRNN already trained in `--work` with
the same config is kept.
"""

import argparse
import asyncio
import json
import statistics
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
from ocr_onnx.onnx_settings import MANIFEST_DIR
from ocr_onnx.sessions import ModelRegistry, OnnxSettings

SHIPPED = "PP-OCRv4 (shipped, trained on rectangles)"
CRNN = {"rect": "CRNN trained on rectangle crops", "mask": "CRNN trained on masked crops"}
MATCHED = "each CRNN on the crops it was trained on"
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
    datasets: dict[str, Path], config: Path, out: Path, max_minutes: float, device: str, seeds: Sequence[int]
) -> dict[str, list[Path]]:
    """A CRNN per dataset and training seed, the same config otherwise; their manifests by crop kind, in seed
    order. A CRNN already trained in `out` with the same config is kept."""
    from models.stage2.train import MANIFEST, METRICS, run

    manifests: dict[str, list[Path]] = {kind: [] for kind in datasets}
    base = yaml.safe_load(config.read_text(encoding="utf-8"))
    for seed in seeds:
        for kind, folder in datasets.items():
            settings = {**base, "name": f"crnn-ab-{kind}", "data": {"dataset": str(folder.resolve())}}
            settings["training"] = {**base.get("training", {}), "max_minutes": max_minutes, "seed": seed}
            text = yaml.safe_dump(settings, sort_keys=False)
            written, trained = out / f"stage2-{kind}-seed{seed}.yaml", out / f"crnn-{kind}-seed{seed}"
            finished = (trained / METRICS).is_file() and written.is_file()
            if finished and written.read_text(encoding="utf-8") == text:
                print(f"{kind} CRNN, seed {seed}: kept from an earlier run with the same config ({trained})")
                manifests[kind].append(trained / MANIFEST)
                continue
            written.write_text(text, encoding="utf-8")
            manifests[kind].append(run(written, trained, device))
    return manifests


# recogniser -> crop kind -> kind of line -> one reading of those lines per trained model (training seed)
Readings = dict[str, dict[str, dict[str, list[list[LineText]]]]]


def read_test_lines(recognisers: dict[str, list[Path]], datasets: dict[str, Path]) -> Readings:
    """Every recogniser (each of its trained models) on the held-out lines both datasets have, cut each way,
    all and by kind of line."""
    tests = {kind: _test_lines(folder) for kind, folder in datasets.items()}
    shared = sorted(set.intersection(*(set(records) for _, records in tests.values())))
    readings: Readings = {}
    for name, manifests in recognisers.items():
        for manifest in manifests:
            recognizer = ModelRegistry(OnnxSettings(recognition_manifest=manifest)).recognizer()
            for kind, (folder, by_id) in tests.items():
                info, _ = read_dataset(folder)
                records = [by_id[line] for line in shared]
                read = read_lines(folder, info, records, recognizer)
                lines = [
                    LineText(r.text, result.text, line_groups(r.properties, r.region_type, r.polygon))
                    for r, result in zip(records, read, strict=True)
                ]
                by_group = readings.setdefault(name, {}).setdefault(kind, {})
                for group, members in {"all": lines, **_members(lines)}.items():
                    by_group.setdefault(group, []).append(members)
    return readings


def mean_scores(scores: Sequence[TextScores]) -> TextScores:
    """The scores of several readings of the same lines, averaged."""
    return TextScores(
        scores[0].lines,
        *(statistics.fmean(getattr(s, key) for s in scores) for key in ("cer", "wer", "exact_match")),
    )


def compare(rect: dict[str, list[list[LineText]]], mask: dict[str, list[list[LineText]]]) -> dict[str, dict]:
    """Scores of the two readings by kind of line, averaged over the trained models, the 95 % interval of the
    CER change, and the relative change of each model pair (seed)."""
    scored = {
        kind: {group: [text_scores(run) for run in runs] for group, runs in by_group.items()}
        for kind, by_group in (("rect", rect), ("mask", mask))
    }
    return {
        **{
            kind: {g: asdict(mean_scores(runs)) for g, runs in by_group.items()}
            for kind, by_group in scored.items()
        },
        "cer_change_95": {group: cer_change_interval(runs, mask[group]) for group, runs in rect.items()},
        "cer_change_by_seed": {
            group: [_relative(r.cer, m.cer) for r, m in zip(runs, scored["mask"][group], strict=True)]
            for group, runs in scored["rect"].items()
        },
    }


def _relative(before: float, after: float) -> float | None:
    return (after - before) / before if before else None


def score_cells(readings: Readings) -> dict[str, dict[str, dict]]:
    """Each recogniser on rectangle against masked crops; then each CRNN on the crops it was trained on."""
    cells = {name: compare(by_kind["rect"], by_kind["mask"]) for name, by_kind in readings.items()}
    cells[MATCHED] = compare(readings[CRNN["rect"]]["rect"], readings[CRNN["mask"]]["mask"])
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
        "| recogniser | lines | n | CER rect | CER mask | change | mask - rect, 95 % CI | change by seed "
        "| WER rect | WER mask | exact rect | exact mask |",
        "|---|---|---:|---:|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    for name, by_kind in cells.items():
        for group in by_kind["rect"]:
            rect, mask = TextScores(**by_kind["rect"][group]), TextScores(**by_kind["mask"][group])
            low, high = by_kind["cer_change_95"][group]
            by_seed = ", ".join(_percent(c) for c in by_kind["cer_change_by_seed"][group])
            rows.append(
                f"| {name} | {group} | {rect.lines} | {rect.cer:.4f} | {mask.cer:.4f} | "
                f"{_percent(_relative(rect.cer, mask.cer))} | {low:+.4f} to {high:+.4f} | {by_seed} | "
                f"{rect.wer:.4f} | {mask.wer:.4f} | {rect.exact_match:.1%} | {mask.exact_match:.1%} |"
            )
    return "\n".join(rows)


def _percent(change: float | None) -> str:
    return "n/a" if change is None else f"{change:+.0%}"


def main() -> None:
    """Make the pages and datasets, train both CRNNs, score every cell, write and print the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=40, help="synthetic pages (all splits)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--config", type=Path, default=Path("benchmarks/masked_vs_rect/crnn.yaml"))
    parser.add_argument("--max-minutes", type=float, default=11.0, help="most training time of each CRNN")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--seeds",
        type=lambda text: [int(seed) for seed in text.split(",")],
        default=[0, 1, 2],
        help="training seeds: one CRNN per crop kind and seed (default 0,1,2)",
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/masked_vs_rect"))
    parser.add_argument("--work", type=Path, default=Path("runs/ab"), help="pages, datasets and models")
    args = parser.parse_args()
    work = args.work
    args.out.mkdir(parents=True, exist_ok=True)
    pages = work / "pages"
    if not any(pages.glob("*.page.xml")):
        generate_pages(pages, args.pages, args.seed)
    datasets = build_datasets(pages, work, args.seed)
    manifests = train_crnns(datasets, args.config, work, args.max_minutes, args.device, args.seeds)
    recognisers = {
        SHIPPED: [MANIFEST_DIR / "ppocrv4_rec.json"],
        **{name: manifests[k] for k, name in CRNN.items()},
    }
    cells = score_cells(read_test_lines(recognisers, datasets))
    markdown = table(cells)
    counts = {kind: read_dataset(folder)[0].counts for kind, folder in datasets.items()}
    report = {
        "pages": args.pages,
        "seed": args.seed,
        "training_seeds": args.seeds,
        "config": str(args.config),
        "counts": counts,
        "cells": cells,
    }
    (args.out / "ab.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "ab.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
