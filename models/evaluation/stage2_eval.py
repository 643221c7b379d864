"""Stage 2 evaluation: run a line recogniser over one split of a dataset folder and score its text."""

import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from models.dataset.records import DatasetInfo, LineRecord, load_crop, read_dataset
from ocr_onnx.recognition import Recognition, TextRecognizer

from .line_groups import line_groups
from .reports import plot_cer_by_group, text_table, write_report
from .text_metrics import LineText, cer, exact_match, grouped_scores, text_scores, wer

CHUNK = 256  # crops held in memory at once


def recipe_mismatch(info: DatasetInfo, recognizer: TextRecognizer) -> list[str]:
    """How the dataset's crops differ from the recogniser's crop recipe (empty when they agree)."""
    recipe = recognizer.manifest.crop
    if recipe is None:
        return []
    pairs = {
        "mask_polygon": (info.crop.mask_polygon, recipe.mask_polygon),
        "deskew": (info.crop.deskew, recipe.deskew),
        "background": (tuple(info.crop.background), tuple(recipe.background)),
    }
    return [
        f"{key}: dataset {ours}, model {theirs}" for key, (ours, theirs) in pairs.items() if ours != theirs
    ]


def read_lines(
    folder: Path, info: DatasetInfo, records: Sequence[LineRecord], recognizer: TextRecognizer
) -> list[Recognition]:
    """The recogniser's reading of each record's crop (flattened on the dataset's background), in order."""
    read: list[Recognition] = []
    for start in range(0, len(records), CHUNK):
        crops = [load_crop(folder, record, info.crop.background) for record in records[start : start + CHUNK]]
        read.extend(recognizer.recognize(crops))
    return read


def evaluate_dataset(folder: Path, split: str, recognizer: TextRecognizer, out: Path) -> str:
    """Score the recogniser on the split's lines, write `stage2.json` (with every line's reading),
    `stage2.md` and `stage2_cer.png` into `out`, and return the Markdown table."""
    info, records = read_dataset(folder)
    chosen = [record for record in records if record.split == split]
    if not chosen:
        counts = {name: sum(r.split == name for r in records) for name in sorted({r.split for r in records})}
        raise ValueError(f"{folder}: no lines in split {split!r} (lines per split: {counts})")
    mismatch = recipe_mismatch(info, recognizer)
    for difference in mismatch:
        print(f"warning: crops not cut as the model expects: {difference}", file=sys.stderr)
    read = read_lines(folder, info, chosen, recognizer)
    lines = [
        LineText(record.text, result.text, line_groups(record.properties, record.region_type, record.polygon))
        for record, result in zip(chosen, read, strict=True)
    ]
    overall, groups = text_scores(lines), grouped_scores(lines)
    table = text_table(overall, groups)
    report = {
        "stage": 2,
        "dataset": str(folder),
        "split": split,
        "recogniser": {"name": recognizer.manifest.name, "version": recognizer.manifest.version},
        "crop": asdict(info.crop),
        "recipe_mismatch": mismatch,
        "normalisation": "strip, runs of whitespace made one space",
        "scores": asdict(overall),
        "groups": {name: {group: asdict(s) for group, s in found.items()} for name, found in groups.items()},
        "lines": [
            _line_report(record, result, line)
            for record, result, line in zip(chosen, read, lines, strict=True)
        ],
    }
    write_report(out, "stage2", report, table)
    plot_cer_by_group(overall, groups, out / "stage2_cer.png")
    return table


def _line_report(record: LineRecord, result: Recognition, line: LineText) -> dict[str, object]:
    """One line's reading and scores, for the JSON report."""
    return {
        "id": record.id,
        "image": record.image,
        "reference": record.text,
        "hypothesis": result.text,
        "confidence": result.confidence,
        "cer": cer(record.text, result.text),
        "wer": wer(record.text, result.text),
        "exact": exact_match(record.text, result.text),
        "groups": dict(line.groups),
    }
