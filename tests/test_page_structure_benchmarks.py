"""The page-structure benchmarks' own arithmetic: block AP on known boxes, composed multi-column pages."""

import numpy as np
import pytest
import pyvips

from benchmarks.layout_map.average_precision import TypedBox, average_precision, box_iou
from benchmarks.multi_column.composite import GUTTER, MARGIN, compose
from benchmarks.real_pages.lines import TruthLine


def test_box_iou() -> None:
    assert box_iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0


def test_average_precision_counts_matches_by_score_and_class() -> None:
    truth = [TypedBox(0, (0, 0, 100, 20), "title"), TypedBox(0, (0, 40, 100, 200), "paragraph")]
    right = [TypedBox(0, (0, 0, 100, 20), "title", 0.9), TypedBox(0, (0, 40, 100, 200), "paragraph", 0.8)]
    assert average_precision(truth, right, "title") == 1.0
    assert average_precision(truth, right, "caption") is None  # no true caption
    # a wrong box scored above the right one halves the precision at full recall
    wrong_first = [TypedBox(0, (200, 0, 300, 20), "title", 0.95), right[0]]
    assert average_precision(truth, wrong_first, "title") == 0.5
    # the right box on another page, or of another class, is no match
    assert average_precision(truth, [TypedBox(1, (0, 0, 100, 20), "title")], "title") == 0.0
    assert average_precision(truth, [TypedBox(0, (0, 0, 100, 20), "paragraph")], "title") == 0.0


def test_composed_columns_keep_each_pages_lines_in_order_shifted_with_their_pixels() -> None:
    def page(value: int) -> pyvips.Image:
        return pyvips.Image.new_from_array(np.full((400, 300, 3), value, np.uint8)).copy(
            interpretation="srgb"
        )

    def line(name: str, y: float) -> TruthLine:
        return TruthLine(
            name, name, ((50, y), (250, y), (250, y + 20), (50, y + 20)), ((50, y + 15), (250, y + 15)), True
        )

    pixels, truth = compose([page(10), page(200)], [[line("a", 100), line("b", 150)], [line("c", 100)]])
    margin = int(MARGIN * 300)
    width = 200 + 2 * margin  # each text area: the lines' box with the margin
    assert pixels.shape == (70 + 2 * margin, 2 * width + int(GUTTER * width), 3)
    assert [t.id for t in truth] == ["c1-a", "c1-b", "c2-c"]
    assert truth[0].polygon[0] == (margin, margin)
    right = width + int(GUTTER * width)
    assert truth[2].polygon[0] == (right + margin, margin)
    assert pixels[5, 5, 0] == 10 and pixels[5, right + 5, 0] == 200
