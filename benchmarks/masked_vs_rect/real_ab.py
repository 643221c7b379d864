"""The A/B on real pages: the Latin recogniser fine-tuned from PP-OCRv4 on masked and on rectangular crops
of ocr-train's `train` pages, each reading the `dev` pages' lines cut both ways, PP-OCRv4 as reference.

    python -m benchmarks.masked_vs_rect.real_ab [--data ../shared/ocr-train] [--minutes 12] [--threads 2]
        [--work runs/latin] [--out benchmarks/results/masked_vs_rect]

Four datasets are built in process from the ALTO polygons (train and dev pages, masked and rectangle,
levelled, handwriting and signatures left out); one model per crop kind is trained, one after the other, for
`--minutes` with `--threads` torch threads (`python -m models.latin_rec`; a model already in `--work` is
kept, and so are the frozen stages' features). Writes
`real_ab.json` and `real_ab.md` (CER, WER, exact match per cell, overall and per data set, with the paired
bootstrap 95 % interval of the CER change) into `--out` and prints the table.
"""

import argparse
import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.real_pages.pages import PageEntry, read_manifest
from models.dataset.builder import BuildOptions, build_dataset
from models.dataset.fetcher import IN_PROCESS, CropFetcher, in_process_transport
from models.dataset.line_items import ItemSelection
from models.dataset.masked_url import CROP_KINDS, CropOptions
from models.dataset.records import read_dataset
from models.evaluation.stage2_eval import read_lines
from models.evaluation.text_metrics import LineText
from models.latin_rec.charset import training_text
from ocr_onnx.onnx_settings import MANIFEST_DIR
from ocr_onnx.sessions import ModelRegistry, OnnxSettings

from .ocr_ab import compare, table

REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED = "PP-OCRv4 (shipped, trained on rectangles)"
LATIN = {"rect": "Latin, fine-tuned on rectangle crops", "mask": "Latin, fine-tuned on masked crops"}
MATCHED = "each Latin model on the crops it was trained on"
EXCLUDED = frozenset({"handwritten", "signature"})  # a print and typewriter recogniser


def build(pages: Sequence[PageEntry], kind: str, folder: Path) -> Path:
    """The pages' lines cut as `kind` into `folder`, all in its `train` split (resumed if present)."""
    options = BuildOptions(
        CropOptions(kind, deskew=True),
        ratios={"train": 1.0},
        selection=ItemSelection(excluded_types=EXCLUDED),
        progress=False,
    )

    async def fetch() -> None:
        images = pages[0].image.parent
        async with CropFetcher(None, in_process_transport(images), 3, 60.0, 2) as fetcher:
            summary = await build_dataset([page.gt for page in pages], folder, fetcher, IN_PROCESS, options)
        print(f"{folder.name}: {summary.text()}", flush=True)

    asyncio.run(fetch())
    return folder


def trained(dataset: Path, out: Path, minutes: float, threads: int) -> Path:
    """The manifest of the model fine-tuned on `dataset` in `out`, trained first unless it is there."""
    manifest = out / "manifest.json"
    if not (out / "metrics.json").is_file():
        command = [sys.executable, "-m", "models.latin_rec", "--data", str(dataset), "--out", str(out)]
        command += ["--minutes", str(minutes), "--threads", str(threads), "--name", f"latin-rec-{out.name}"]
        subprocess.run(command, check=True, cwd=REPOSITORY)
    return manifest


def readings(manifest: Path, dev: dict[str, Path], datasets: dict[str, str]) -> dict[str, dict[str, list]]:
    """One recogniser on the dev lines cut each way: crop kind → group (all, data set) → [its lines]."""
    recognizer = ModelRegistry(OnnxSettings(recognition_manifest=manifest)).recognizer()
    by_kind: dict[str, dict[str, list]] = {}
    for kind, folder in dev.items():
        info, records = read_dataset(folder)
        records.sort(key=lambda record: record.id)
        read = read_lines(folder, info, records, recognizer)
        lines = [
            LineText(training_text(record.text), result.text, {"dataset": datasets[record.identifier]})
            for record, result in zip(records, read, strict=True)
        ]
        groups = {"all": lines}
        for line in lines:
            groups.setdefault(line.groups["dataset"], []).append(line)
        by_kind[kind] = {group: [members] for group, members in groups.items()}
    return by_kind


def main(argv: Sequence[str] | None = None) -> None:
    """Build, train, read and score; write and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPOSITORY.parent / "shared" / "ocr-train")
    parser.add_argument("--minutes", type=float, default=12.0, help="training minutes of each model")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of each training run")
    parser.add_argument("--work", type=Path, default=REPOSITORY / "runs" / "latin")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "benchmarks" / "results" / "masked_vs_rect")
    args = parser.parse_args(argv)
    pages = read_manifest(args.data)
    datasets = {name: page.dataset for page in pages for name in (page.image.name, page.image.stem)}
    folders = {
        (split, kind): args.work / f"{split}_{kind}" for split in ("train", "dev") for kind in CROP_KINDS
    }
    for (split, kind), folder in folders.items():
        if not (folder / "dataset.json").is_file():
            build([page for page in pages if page.split == split], kind, folder)
    models = {
        kind: trained(folders["train", kind], args.work / f"ab_{kind}", args.minutes, args.threads)
        for kind in CROP_KINDS
    }
    dev = {kind: folders["dev", kind] for kind in ("rect", "mask")}
    read = {SHIPPED: readings(MANIFEST_DIR / "ppocrv4_rec.json", dev, datasets)}
    read |= {LATIN[kind]: readings(manifest, dev, datasets) for kind, manifest in models.items()}
    cells = {name: compare(by_kind["rect"], by_kind["mask"]) for name, by_kind in read.items()}
    cells[MATCHED] = compare(read[LATIN["rect"]]["rect"], read[LATIN["mask"]]["mask"])
    markdown = table(cells)
    trainings = {kind: json.loads((m.parent / "metrics.json").read_text()) for kind, m in models.items()}
    report = {
        "data": str(args.data),
        "dev_lines": read_dataset(dev["mask"])[0].counts,
        "training": {kind: {k: v for k, v in t.items() if k != "log"} for kind, t in trainings.items()},
        "cells": cells,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "real_ab.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    (args.out / "real_ab.md").write_text(markdown + "\n", encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
