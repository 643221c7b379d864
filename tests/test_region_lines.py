"""How `{region}/ocr` splits a region into lines: the `lines` parameter, rows of detected boxes, and what is
read (boxes in crop pixels: x0, y0, x1, y1). The grazed rows are boxes measured on a typewritten page."""

import pytest

from extensions.region_lines import boxes_to_read, line_mode, rows, whole_rows
from iiif_server.errors import IIIFError

WORDS = [(300, 12, 500, 58), (10, 10, 280, 60), (520, 14, 700, 61)]  # one line, the detector's pieces
NEXT_LINE = [(10, 80, 690, 130)]
GRAZED_ABOVE = [(133, 3, 251, 21), (16, 23, 449, 75), (426, 16, 919, 69)]  # a descender row above the line


def test_pieces_of_one_line_share_a_row_left_to_right() -> None:
    assert rows(WORDS) == [sorted(WORDS)]
    assert rows(WORDS + NEXT_LINE) == [sorted(WORDS), NEXT_LINE]


def test_a_row_grazed_at_the_edge_is_not_a_line() -> None:
    grouped = rows(GRAZED_ABOVE)
    assert len(grouped) == 2
    assert whole_rows(grouped, 80) == [GRAZED_ABOVE[1:]]
    assert whole_rows(grouped, 80) == whole_rows(rows(GRAZED_ABOVE[1:]), 80)
    away_from_the_edge = [(133, 20, 251, 38), (16, 40, 449, 92), (426, 33, 919, 86)]
    assert len(whole_rows(rows(away_from_the_edge), 120)) == 2  # a short line of its own


def test_one_row_is_read_across_the_whole_region() -> None:
    """Words the detector missed are read too: the row spans the region's width, with 15 % margins."""
    assert boxes_to_read(WORDS, 800, 70, "auto") == [(0, 2, 800, 69)]
    assert boxes_to_read(GRAZED_ABOVE, 921, 80, "auto") == [(0, 7, 921, 80)]


def test_several_rows_are_read_box_by_box() -> None:
    assert boxes_to_read(WORDS + NEXT_LINE, 800, 140, "auto") == sorted(WORDS) + NEXT_LINE
    assert boxes_to_read(WORDS, 800, 70, "detect") == WORDS


@pytest.mark.parametrize("lines", ["one", "auto", "detect"])
def test_nothing_found_reads_the_whole_region(lines: str) -> None:
    assert boxes_to_read([], 800, 70, lines) == [(0, 0, 800, 70)]  # type: ignore[arg-type]


def test_the_lines_parameter() -> None:
    assert [line_mode(text) for text in (None, "one", "auto", "detect")] == ["auto", "one", "auto", "detect"]
    with pytest.raises(IIIFError) as raised:
        line_mode("two")
    assert (raised.value.status, raised.value.parameter) == (400, "lines")
