"""The real-page benchmark: its scoring on hand-made lines with known answers, and one page end to end."""

import json
import time
from pathlib import Path

import pytest

from benchmarks.real_pages.__main__ import DEFAULT_DATA, main
from benchmarks.real_pages.alto_baselines import read_baselines
from benchmarks.real_pages.char_shares import is_space, reproduced
from benchmarks.real_pages.ground_truth import scored_text, truth_lines
from benchmarks.real_pages.line_matching import (
    baseline_coverage,
    baseline_scores,
    best_rows,
    greedy_pairs,
    iou_scores,
    polygon_iou,
)
from benchmarks.real_pages.lines import PageReading, ReadLine, TruthLine, read_lines
from benchmarks.real_pages.page_scores import score_page
from benchmarks.real_pages.pages import PageEntry, select_pages
from benchmarks.real_pages.summary import by_dataset, line_detection, summarise
from benchmarks.real_pages.text_forms import is_accented, is_wide, relaxed
from extensions.annotations import alto_xml


def box(x: float, y: float, width: float, height: float) -> tuple[tuple[float, float], ...]:
    """A rectangle as a polygon."""
    return ((x, y), (x + width, y), (x + width, y + height), (x, y + height))


def truth(text: str, row: int, scored: bool = True) -> TruthLine:
    """A true line of a page with 100 px line pitch: a generous 150 px polygon, baseline at 80 px."""
    y = 100 * row
    return TruthLine(f"l{row}", text, box(0, y - 25, 1000, 150), ((0, y + 80), (1000, y + 80)), scored)


def found(text: str, row: int, x: float = 0, width: float = 1000) -> ReadLine:
    """A tight found line over row `row`: 60 px tall, holding the row's baseline."""
    return ReadLine(text, box(x, 100 * row + 30, width, 60))


def test_a_line_is_held_when_half_its_baseline_lies_in_the_polygon() -> None:
    baseline = ((0.0, 50.0), (100.0, 50.0))
    assert baseline_coverage(baseline, box(0, 0, 100, 100)) == pytest.approx(1.0)
    assert baseline_coverage(baseline, box(40, 0, 100, 100)) == pytest.approx(0.6)
    assert baseline_coverage(baseline, box(0, 60, 100, 100)) == 0.0
    # grown by a quarter of its thickness (2 * 10000 / 400 = 50 px): 12.5 px, enough for a baseline 10 px off
    assert baseline_coverage(baseline, box(0, 60, 100, 100), tolerance=0.25) == pytest.approx(1.0)
    assert baseline_coverage(baseline, box(0, 65, 100, 100), tolerance=0.25) == 0.0
    assert polygon_iou(box(0, 0, 100, 100), box(50, 0, 100, 100)) == pytest.approx(50 / 150)


def test_tight_correct_lines_match_by_baseline_though_their_iou_is_low() -> None:
    lines = [truth("a", 0), truth("b", 1)]
    tight = [found("b", 1), found("a", 0)]
    assert greedy_pairs(baseline_scores(lines, tight)) == [(0, 1), (1, 0)]
    assert polygon_iou(lines[0].polygon, tight[1].polygon) == pytest.approx(60 / 150)
    assert greedy_pairs(iou_scores(lines, tight)) == []


def test_matching_is_one_to_one_and_greedy_by_overlap() -> None:
    # found 0 holds both true baselines; true 1 ranks it higher, so true 0 takes found 1.
    scores = [[1.0, 0.6], [1.0, 0.0]]
    assert greedy_pairs(scores, rank=[[0.3, 0.2], [0.5, 0.0]]) == [(0, 1), (1, 0)]
    assert greedy_pairs([[0.9, 0.6], [0.95, 0.0]]) == [(0, 1), (1, 0)]
    assert greedy_pairs([[0.4, 0.49]]) == []
    halves = [found("a", 0, 0, 450), found("a", 0, 450, 550)]
    assert greedy_pairs(baseline_scores([truth("a", 0)], halves)) == [(0, 1)]


def test_a_tall_box_holding_two_baselines_is_paired_with_its_own_line() -> None:
    lines = [truth("upper", 0), truth("lower", 1)]
    boxes = [ReadLine("lower", box(0, 70, 1000, 120)), ReadLine("upper", box(0, 30, 1000, 60)), found("x", 5)]
    coverage, iou = baseline_scores(lines, boxes), iou_scores(lines, boxes)
    assert coverage == [[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]]  # the lower line's box holds both baselines
    assert greedy_pairs(coverage) == [(0, 0)]  # by coverage alone the tie goes the wrong way
    assert greedy_pairs(coverage, iou) == [(0, 1), (1, 0)]
    assert best_rows(coverage, iou, 3) == [1, 0, None]


def test_spaces_and_accents_reproduced_follow_the_alignment() -> None:
    assert reproduced("de la mer", "dela mer", is_space) == (1, 2)
    assert reproduced("Jødernes Spærring", "Jodernes Sperring", is_accented) == (0, 2)
    assert reproduced("Jødernes Spærring", "Jødernes Sperring", is_accented) == (1, 2)
    assert [c for c in "éäå\u017fæøœßÆ e" if is_accented(c)] == list("éäå\u017fæøœßÆ")
    assert [c for c in "a\uff0cb\u4e2d\u3002" if is_wide(c)] == ["\uff0c", "\u4e2d", "\u3002"]


def test_relaxed_form_and_ground_truth_mapping() -> None:
    assert relaxed("Le  Soleil, \u017fans  Chagrin\uff01") == "le soleil sans chagrin"
    assert scored_text(" m\u04e7glich e¬") == "möglich e-"


def test_ordered_and_order_free_page_cer_differ_by_the_reading_order_only() -> None:
    lines = [truth("first line", 0), truth("second line", 1), truth("signature", 2, scored=False)]
    swapped = PageReading((found("second line", 1), found("first line", 0), found("Sgnatur", 2)), 2.0)
    page = score_page("p", "d", lines, swapped)
    assert page.page_text.hypothesis == "second line\nfirst line"
    assert page.page_text_order_free.hypothesis == "first line\nsecond line"
    summary = summarise([page])
    assert summary.page_cer_order_free == 0.0
    assert summary.page_cer is not None and summary.page_cer > 0.5
    assert summary.line_cer == 0.0
    assert summary.baseline.f1 == 1.0
    assert summary.spaces == 1.0 and summary.scored_lines == 2 and summary.missed_lines == 0


def test_order_free_page_text_puts_the_pieces_of_a_split_line_left_to_right() -> None:
    lines = [truth("one two three", 0), truth("four", 1)]
    pieces = (found("four", 1), found("two three", 0, 300, 700), found("one", 0, 0, 300))
    page = score_page("p", "d", lines, PageReading(pieces, 1.0))
    assert page.page_text_order_free.hypothesis == "one\ntwo three\nfour"
    assert summarise([page]).page_cer_order_free == 0.0
    assert (page.baseline_matches, page.missed_lines) == (2, 0)
    assert page.matched[0].hypothesis == "two three"


def test_found_lines_off_the_truth_and_extra_pieces_of_split_lines_are_counted() -> None:
    lines = [truth("one two three", 0), truth("four", 1)]
    pieces = (found("one", 0, 0, 300), found("two three", 0, 300, 700), found("four", 1), found("stamp", 5))
    page = score_page("p", "d", lines, PageReading(pieces, 1.0))
    assert (page.found_lines, page.off_truth_lines, page.extra_pieces) == (4, 1, 1)
    summary = summarise([page, page])
    assert (summary.off_truth_lines, summary.extra_pieces) == (2, 2)


def test_missed_and_extra_lines_count_in_detection_and_page_text() -> None:
    lines = [truth("abc", 0), truth("def", 1)]
    page = score_page("p", "d", lines, PageReading((found("abc", 0), found("xyz", 5)), 1.0))
    assert (page.baseline_matches, page.missed_lines) == (1, 1)
    assert page.page_text_order_free.hypothesis == "abc\nxyz"
    summary = by_dataset([page])["all"]
    assert summary.line_cer == 0.0
    assert summary.page_cer_order_free == pytest.approx(3 / 7)  # "abc def" against "abc xyz"
    assert line_detection(1, 2, 2) == summary.baseline


def test_order_free_page_text_keeps_lines_on_no_true_baseline_where_they_sit() -> None:
    lines = [truth("abc", 0), truth("def", 1)]
    reading = PageReading((found("def", 1), found("abc", 0), found("HEAD", -1), found("foot", 9)), 1.0)
    page = score_page("p", "d", lines, reading)
    assert page.page_text_order_free.hypothesis == "HEAD\nabc\ndef\nfoot"
    assert page.page_text.hypothesis == "def\nabc\nHEAD\nfoot"


def test_pages_are_chosen_by_split_data_set_and_limit() -> None:
    pages = [
        PageEntry(f"{d}{n}", d, s, Path("x.jpg"), Path("x.xml"))
        for d in "ab"
        for n, s in enumerate(("train", "train", "dev"))
    ]
    assert [p.id for p in select_pages(pages, "train", limit=1)] == ["a0", "b0"]
    assert [p.id for p in select_pages(pages, "all", ["b"])] == ["b0", "b1", "b2"]


ALTO = b"""<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Tags>
<OtherTag ID="T1" LABEL="DefaultLine:Signature"/></Tags><Layout><Page WIDTH="100" HEIGHT="100"><PrintSpace>
<TextBlock ID="b"><TextLine ID="l1" BASELINE="0 10 50 10">
<Shape><Polygon POINTS="0 0 50 0 50 12 0 12"/></Shape><String CONTENT="Gr\xd3\x93\xc3\x9fe"/></TextLine>
<TextLine ID="l2" TAGREFS="T1" BASELINE="0,30 50,30"><Shape><Polygon POINTS="0 20 50 20 50 32 0 32"/></Shape>
<String CONTENT="J. Doe"/></TextLine></TextBlock></PrintSpace></Page></Layout></alto>"""


def test_ground_truth_lines_carry_baselines_and_types() -> None:
    assert read_baselines(ALTO) == {"l1": ((0, 10), (50, 10)), "l2": ((0, 30), (50, 30))}
    first, second = truth_lines(ALTO)
    assert (first.text, first.scored, first.baseline) == ("Gräße", True, ((0, 10), (50, 10)))
    assert (second.text, second.scored) == ("J. Doe", False)


TESSERACT_ALTO = b"""<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#">
<Layout><Page WIDTH="771" HEIGHT="1018"><PrintSpace><ComposedBlock ID="c">
<TextBlock ID="b" HPOS="53" VPOS="40" WIDTH="269" HEIGHT="10">
<TextLine ID="line_0" HPOS="53" VPOS="40" WIDTH="269" HEIGHT="10">
<String HPOS="53" VPOS="40" WIDTH="74" HEIGHT="9" CONTENT="LE\xcc\x81GATION"/>
<SP WIDTH="10" VPOS="40" HPOS="127"/>
<String HPOS="137" VPOS="40" WIDTH="62" HEIGHT="10" CONTENT="ROYALE"/></TextLine></TextBlock></ComposedBlock>
</PrintSpace></Page></Layout></alto>"""


def test_tesseract_alto_lines_are_read_with_their_boxes_and_nfc_text() -> None:
    (line,) = read_lines(alto_xml.parse(TESSERACT_ALTO))
    assert line.text == "L\u00c9GATION ROYALE"
    assert sorted(line.polygon) == [(53, 40), (53, 50), (322, 40), (322, 50)]


@pytest.mark.skipif(not (DEFAULT_DATA / "manifest.tsv").exists(), reason="../shared/ocr-train is missing")
def test_one_real_page_through_the_real_server(tmp_path: Path) -> None:
    started = time.monotonic()
    main(["--datasets", "ehri-da", "--limit", "1", "--no-tesseract", "--out", str(tmp_path)])
    assert time.monotonic() - started < 60
    record = json.loads((tmp_path / "results.json").read_text())
    server = record["summaries"]["server"]
    assert list(server) == ["ehri-da", "all"]
    assert server["all"]["pages"] == 1 and "tesseract" not in record["summaries"]
    assert server["all"]["baseline"]["f1"] > 0.5
    assert "| ehri-da | server |" in (tmp_path / "results.md").read_text()
    assert (tmp_path / "results.png").stat().st_size > 0
