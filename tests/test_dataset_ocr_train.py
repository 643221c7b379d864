"""The eScriptorium ALTO exports of ../shared/ocr-train: every line read, typed and built into a dataset."""

import csv
import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from extensions.annotations import load_annotations
from extensions.annotations.structure_types import STRUCTURE_TYPE
from models.cli import main
from models.dataset.records import SKIPPED_FILE, read_dataset

OCR_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "ocr-train"
PAGES = ("g18-bpt6k822192-f12", "ehri-et-wl1375b310-02", "jls-lettre50")  # a book, a typescript, a letter
pytestmark = pytest.mark.skipif(not OCR_TRAIN.is_dir(), reason=f"{OCR_TRAIN} is not there")


def manifest() -> dict[str, dict[str, str]]:
    """The rows of ocr-train's manifest.tsv by page id."""
    with (OCR_TRAIN / "manifest.tsv").open(encoding="utf-8", newline="") as table:
        return {row["id"]: row for row in csv.DictReader(table, delimiter="\t", quoting=csv.QUOTE_NONE)}


def build(out: Path, pages: tuple[str, ...], *arguments: str) -> None:
    """`iiif-train dataset build` of these pages' ground truth, images served in process."""
    files = [str(OCR_TRAIN / "gt" / f"{page}.xml") for page in pages]
    images = str(OCR_TRAIN / "images")
    main(["dataset", "build", *files, "--images", images, "--out", str(out), "--no-progress", *arguments])


def test_every_ground_truth_line_is_read_with_its_segmonto_type():
    types: Counter[str | None] = Counter()
    for page, row in manifest().items():
        regions = load_annotations(OCR_TRAIN / row["gt"])
        lines = [r for r in regions if r.region_type == "TextLine"]
        assert (len(lines), regions.skipped) == (int(row["lines"]), ()), page
        types.update(dict(r.properties).get(STRUCTURE_TYPE) for r in lines)
    assert types == {  # the counts ocr-train's README gives
        "default": 1721,
        "DefaultLine": 940,
        "DefaultLine:Typewritten": 260,
        "HeadingLine": 74,
        "DefaultLine:Print": 36,
        "DefaultLine:Signature": 6,
        None: 6,
        "DropCapitalLine": 5,
        "DefaultLine:Handwritten": 4,
        "InterlinearLine:Handwritten": 1,
    }


def test_a_dataset_of_three_pages_has_every_line_by_the_images_own_names(tmp_path: Path):
    build(tmp_path, PAGES)
    info, records = read_dataset(tmp_path)
    rows = manifest()
    assert Counter(r.identifier for r in records) == {page: int(rows[page]["lines"]) for page in PAGES}
    assert info.counts["failed"] == 0 and info.summary["annotation_problems"] == 0
    typescript = "".join(r.text for r in records if r.identifier == "ehri-et-wl1375b310-02")
    assert "\u00e4" in typescript and not any("CYRILLIC" in unicodedata.name(c, "") for c in typescript)
    letter = Counter(r.properties.get(STRUCTURE_TYPE) for r in records if r.identifier == "jls-lettre50")
    assert letter["DefaultLine:Handwritten"] == letter["DefaultLine:Signature"] == 1


def test_a_print_only_dataset_leaves_out_handwriting_and_signatures_by_a_mapped_image(tmp_path: Path):
    mapping = ["--image-map", str(OCR_TRAIN / "manifest.tsv"), "--image-map-columns", "gt,image"]
    build(tmp_path, ("jls-lettre50",), "--exclude-types", "Handwritten,Signature", *mapping)
    info, records = read_dataset(tmp_path)
    assert len(records) == int(manifest()["jls-lettre50"]["lines"]) - 2
    assert {r.identifier for r in records} == {"jls-lettre50.jpg"}
    skipped = [
        json.loads(line) for line in (tmp_path / SKIPPED_FILE).read_text(encoding="utf-8").splitlines()
    ]
    excluded = sorted(entry["reason"] for entry in skipped if entry["reason"].startswith("excluded_type"))
    assert excluded == ["excluded_type:DefaultLine:Handwritten", "excluded_type:DefaultLine:Signature"]
    assert info.summary["skipped"]["excluded_type:DefaultLine:Signature"] == 1
