"""Model evaluation: COCO detection scores, CER/WER/exact match, grouping, reports, and both CLI stages end
to end with the shipped PP-OCRv4 models on the sample page."""

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import pyvips

from benchmarks import ocr_metrics
from extensions.annotations import load_annotations
from models.cli import main
from models.dataset.records import CropSettings, DatasetInfo, LineRecord, safe_name, write_info, write_records
from models.evaluation import text_metrics
from models.evaluation.detection_metrics import PageDetections, detection_scores
from models.evaluation.line_groups import line_groups, slant_group
from models.evaluation.paired_bootstrap import cer_change_interval, character_edits
from models.evaluation.reports import DPI, PANEL_INCHES, detection_table, plot_cer_by_group, text_table
from models.evaluation.text_metrics import LineText, cer, grouped_scores, normalise, text_scores, wer

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "generated"
COCO_RECALL_POINTS = 101  # COCO interpolates precision at recall 0, 0.01, ..., 1


def rect(x: float, y: float, width: float, height: float) -> tuple[tuple[float, float], ...]:
    return ((x, y), (x + width, y), (x + width, y + height), (x, y + height))


LINE_A, LINE_B = rect(10, 10, 100, 20), rect(10, 50, 100, 20)


def page(
    found: list[tuple[tuple[tuple[float, float], ...], float]], truth=(LINE_A, LINE_B)
) -> PageDetections:
    return PageDetections("page", 200, 100, list(truth), found)


def test_identical_polygons_score_one() -> None:
    scores = detection_scores([page([(LINE_A, 0.9), (LINE_B, 0.8)])])
    assert (scores.ap50, scores.ap, scores.ap75, scores.ar100) == (1.0, 1.0, 1.0, 1.0)
    assert (scores.precision, scores.recall, scores.mean_iou) == (1.0, 1.0, 1.0)
    assert (scores.truth, scores.found) == (2, 2)


def test_a_missed_line_halves_recall() -> None:
    scores = detection_scores([page([(LINE_A, 0.9)])])
    assert (scores.precision, scores.recall) == (1.0, 0.5)
    # precision 1 up to recall 0.5 (51 of COCO's 101 recall points), 0 beyond
    assert scores.ap50 == pytest.approx(51 / COCO_RECALL_POINTS)
    assert scores.ap == pytest.approx(51 / COCO_RECALL_POINTS)
    assert scores.ar100 == 0.5


def test_a_shifted_line_counts_at_half_iou_only() -> None:
    shifted = rect(34, 10, 100, 20)  # IoU 76 / 124 = 0.613 with LINE_A
    scores = detection_scores([page([(shifted, 0.9)], truth=[LINE_A])])
    assert scores.mean_iou == pytest.approx(76 / 124)
    assert scores.ap50 == pytest.approx(1.0)
    assert scores.ap75 == 0.0
    assert scores.ap == pytest.approx(0.3)  # matched at IoU 0.5, 0.55, 0.6 of the ten thresholds
    assert scores.ar100 == pytest.approx(0.3)


def test_a_confident_false_line_lowers_precision_and_ap() -> None:
    scores = detection_scores([page([(LINE_A, 0.5), (rect(120, 80, 50, 10), 0.95)])])
    assert (scores.precision, scores.recall) == (0.5, 0.5)
    assert scores.ap50 == pytest.approx(0.5 * 51 / COCO_RECALL_POINTS)


def test_pages_are_scored_together_and_nothing_found_scores_zero() -> None:
    scores = detection_scores([page([(LINE_A, 0.9), (LINE_B, 0.9)]), page([])])
    assert (scores.pages, scores.truth, scores.found, scores.recall) == (2, 4, 2, 0.5)
    empty = detection_scores([page([])])
    assert (empty.ap50, empty.precision, empty.recall) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="no true lines"):
        detection_scores([page([(LINE_A, 0.9)], truth=[])])


def test_cer_and_wer_of_known_pairs() -> None:
    assert cer("abcd", "abed") == 0.25
    assert cer("abcd", "abcdef") == 0.5
    assert wer("the cat sat", "the bat sat") == pytest.approx(1 / 3)
    assert normalise("  a \n\t b  ") == "a b"
    assert cer(" a  b\n", "a b") == 0.0
    assert cer("Ab", "ab") == 0.5  # case is not normalised
    assert ocr_metrics.cer is cer and ocr_metrics.wer is wer  # one implementation


def test_corpus_scores_weigh_lines_by_length() -> None:
    lines = [LineText("abcd", "abed"), LineText("ab", "ab"), LineText("x  y", "x y")]
    scores = text_scores(lines)
    assert scores.lines == 3
    assert scores.cer == pytest.approx(1 / 9)  # 1 edit over 4 + 2 + 3 characters
    assert scores.wer == pytest.approx(1 / 4)  # 1 word edit over 1 + 1 + 2 words
    assert scores.exact_match == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        text_scores([])


def test_character_edits_agree_with_the_corpus_cer() -> None:
    lines = [LineText("the cat", "the bat"), LineText("a  dog ", "a dg"), LineText("sun", "sunny")]
    edits, lengths = character_edits(lines)
    assert edits.tolist() == [1, 1, 2] and lengths.tolist() == [7, 5, 3]
    assert edits.sum() / lengths.sum() == pytest.approx(text_scores(lines).cer)


def test_cer_change_interval_is_paired_and_signed() -> None:
    truth = [f"line number {i} of the page" for i in range(60)]
    before = [LineText(t, t.replace("e", "c")) for t in truth]  # every line has errors
    after = [LineText(t, t if i % 3 else t.replace("e", "c", 1)) for i, t in enumerate(truth)]
    low, high = cer_change_interval([before], [after])
    assert low <= high < 0  # fewer errors after, on every resampling
    assert cer_change_interval([before], [before]) == (0.0, 0.0)
    assert cer_change_interval([after], [before]) == pytest.approx((-high, -low))
    with pytest.raises(ValueError):
        cer_change_interval([before], [list(reversed(after))])


def test_cer_change_interval_averages_the_readings_of_each_side() -> None:
    truth = [f"word{i:02d} word" for i in range(40)]  # all of one length
    perfect = [LineText(t, t) for t in truth]
    one_edit = [LineText(t, t[:-1]) for t in truth]
    two_edits = [LineText(t, t[:-2]) for t in truth]
    # One edit on every line, either way: every resampling gives the same change, one edit per line.
    expected = 40 / sum(len(t) for t in truth)
    assert cer_change_interval([perfect], [one_edit]) == pytest.approx((expected, expected))
    averaged = cer_change_interval([perfect, perfect], [perfect, two_edits])
    assert averaged == pytest.approx((expected, expected))


def test_grouped_scores_order_numeric_groups() -> None:
    lines = [
        LineText("abcd", "abed", {"slant": "10+°", "structure.type": "title"}),
        LineText("ab", "ab", {"slant": "2-5°", "structure.type": "caption"}),
        LineText("xy", "xy", {"slant": "0-2°", "structure.type": "caption"}),
    ]
    groups = grouped_scores(lines)
    assert list(groups["slant"]) == ["0-2°", "2-5°", "10+°"]
    assert list(groups["structure.type"]) == ["caption", "title"]
    assert groups["structure.type"]["caption"] == text_metrics.TextScores(2, 0.0, 0.0, 1.0)
    assert groups["slant"]["10+°"].cer == 0.25


def test_line_groups_from_properties_or_polygon() -> None:
    assert [slant_group(a) for a in (0, 1.99, -2, 4.9, 5, -9.9, 10, 45)] == [
        "0-2°", "0-2°", "2-5°", "2-5°", "5-10°", "5-10°", "10+°", "10+°",
    ]  # fmt: skip
    properties = {"structure.type": "caption", "synthetic.kind": "slanted", "synthetic.angle": "-3.5"}
    assert line_groups(properties, "TextLine", LINE_A) == {
        "structure.type": "caption",
        "synthetic.kind": "slanted",
        "slant": "2-5°",
    }
    angle = math.radians(7)
    tilted = tuple(
        (x * math.cos(angle) - y * math.sin(angle), x * math.sin(angle) + y * math.cos(angle))
        for x, y in LINE_A
    )
    assert line_groups({}, "TextLine", tilted) == {"structure.type": "TextLine", "slant": "5-10°"}


def test_tables_and_plot(tmp_path: Path) -> None:
    lines = [
        LineText("abcd", "abed", {"slant": "0-2°", "structure.type": "title"}),
        LineText("abcd", "abcd", {"slant": "0-2°", "structure.type": "caption"}),
    ]
    overall, groups = text_scores(lines), grouped_scores(lines)
    table = text_table(overall, groups).splitlines()
    assert table[0] == "| grouping | group | lines | CER | WER | exact match |"
    assert table[2:] == [
        "| all |  | 2 | 0.1250 | 0.5000 | 0.500 |",
        "| slant | 0-2° | 2 | 0.1250 | 0.5000 | 0.500 |",
        "| structure.type | caption | 1 | 0.0000 | 0.0000 | 1.000 |",
        "| structure.type | title | 1 | 0.2500 | 1.0000 | 0.000 |",
    ]
    detection = detection_scores([page([(LINE_A, 0.9)])])
    rows = detection_table(detection, {"p.png": detection}).splitlines()
    assert rows[0].startswith("| page | pages | true lines | found | AP@0.5 | AP@[.5:.95] |")
    assert rows[2].startswith("| all | 1 | 2 | 1 | 0.505 | 0.505 |")
    assert rows[3].startswith("| p.png | 1 | 2 | 1 |")

    target = plot_cer_by_group(overall, groups, tmp_path / "cer.png")
    image = pyvips.Image.new_from_file(str(target))
    panels = 3  # all lines, slant, structure.type
    assert (image.width, image.height) == (panels * PANEL_INCHES[0] * DPI, PANEL_INCHES[1] * DPI)
    pixels = np.ndarray(
        buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, image.bands)
    )[:, :, :3].astype(int)
    blue = np.abs(pixels - (31, 119, 180)).sum(axis=2) < 30  # matplotlib's tab:blue bars
    assert blue.sum() > 1000
    assert (pixels.sum(axis=2) < 100).sum() > 200  # dark text: titles, ticks, labels


def test_evaluate_stage1_cli_with_the_shipped_detector(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("IIIF_ONNX_INTRA_THREADS", "2")
    pages, out = tmp_path / "pages", tmp_path / "out"
    pages.mkdir()
    shutil.copy(SAMPLES / "page2.jpg", pages / "page2.jpg")
    shutil.copy(SAMPLES / "page2.gt.xml", pages / "page2.page.xml")
    shutil.copy(SAMPLES / "transparent.png", pages / "unannotated.png")
    main(["evaluate", "stage1", str(pages), "--out", str(out)])
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "unannotated.png" in captured.err
    report = json.loads((out / "stage1.json").read_text())
    assert report["scores"]["truth"] == 61
    assert report["scores"]["ap50"] >= 0.9
    assert report["scores"]["recall"] >= 0.95
    assert report["detector"]["name"] == "ppocrv4-det-folded"
    assert [p["image"] for p in report["pages"]] == ["page2.jpg"]
    assert report["skipped"] == [{"image": str(pages / "unannotated.png"), "reason": "no annotation file"}]
    assert (out / "stage1.md").read_text() == captured.out
    assert captured.out.splitlines()[3].startswith("| page2.jpg | 1 | 61 |")


def write_line_dataset(folder: Path, pad: int = 4) -> list[LineRecord]:
    """A contract-3 dataset of the sample page's lines, cut as boxes `pad` pixels larger than the true ones
    (PP-OCRv4 drops spaces on crops cut tight to the ink); every 6th line in `train`, the rest in `test`."""
    (folder / "lines").mkdir(parents=True)
    image = pyvips.Image.new_from_file(str(SAMPLES / "page2.jpg"))
    lines = [r for r in load_annotations(SAMPLES / "page2.gt.xml") if r.region_type == "TextLine"]
    records = []
    for index, region in enumerate(lines):
        xs, ys = [x for x, _ in region.polygon], [y for _, y in region.polygon]
        left, top = max(0, math.floor(min(xs)) - pad), max(0, math.floor(min(ys)) - pad)
        width, height = math.ceil(max(xs)) + pad - left, math.ceil(max(ys)) + pad - top
        data = image.crop(left, top, width, height).write_to_buffer(".png")
        item = f"page2/{region.id}"
        stem = safe_name(item)
        (folder / "lines" / f"{stem}.png").write_bytes(data)
        (folder / "lines" / f"{stem}.txt").write_text(region.text or "", encoding="utf-8")
        properties = {"structure.type": ("heading", "paragraph")[index % 2]}
        records.append(
            LineRecord(
                item, "train" if index % 6 == 0 else "test", f"lines/{stem}.png", f"lines/{stem}.txt",
                region.text or "", "page2", region.id, region.region_type, properties, region.polygon,
                (left, top, width, height), "", "rect", 0.0, width, height, hashlib.sha256(data).hexdigest(),
            )
        )  # fmt: skip
    write_records(folder, records)
    counts = {split: sum(r.split == split for r in records) for split in ("train", "val", "test")}
    crop = CropSettings(mask_polygon=False, background=(255, 255, 255), deskew=True, size="max")
    write_info(folder, DatasetInfo("in-process", crop, {"train": 0.2, "val": 0, "test": 0.8}, 0, counts))
    return records


def test_evaluate_stage2_cli_with_the_shipped_recogniser(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("IIIF_ONNX_INTRA_THREADS", "2")
    dataset, out = tmp_path / "dataset", tmp_path / "out"
    records = write_line_dataset(dataset)
    tested = [r for r in records if r.split == "test"]
    main(["evaluate", "stage2", str(dataset), "--out", str(out)])
    captured = capsys.readouterr()
    report = json.loads((out / "stage2.json").read_text())
    assert report["split"] == "test" and report["recipe_mismatch"] == []
    assert report["scores"]["lines"] == len(tested) == 50
    assert report["scores"]["cer"] <= 0.05
    assert [line["id"] for line in report["lines"]] == [r.id for r in tested]
    assert [line["reference"] for line in report["lines"]] == [r.text for r in tested]
    assert all(line["hypothesis"] for line in report["lines"])
    assert set(report["groups"]) == {"structure.type", "slant"}
    assert set(report["groups"]["structure.type"]) == {"heading", "paragraph"}
    table = (out / "stage2.md").read_text()
    assert table == captured.out
    assert [row.split(" | ")[:2] for row in table.splitlines()[2:]] == [
        ["| all", ""],
        ["| structure.type", "heading"],
        ["| structure.type", "paragraph"],
        ["| slant", "0-2°"],
    ]
    image = pyvips.Image.new_from_file(str(out / "stage2_cer.png"))
    assert (image.width, image.height) == (3 * PANEL_INCHES[0] * DPI, PANEL_INCHES[1] * DPI)

    with pytest.raises(SystemExit, match="no lines in split 'val'"):
        main(["evaluate", "stage2", str(dataset), "--out", str(out), "--split", "val"])
