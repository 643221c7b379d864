"""The page structure (`extensions.page_structure`): blocks in reading order across columns, whole lines,
typed and non-text blocks, stable ids. Pages are drawn as line boxes whose true reading order is known."""

import math
from dataclasses import dataclass

import pytest

from extensions.page_structure import blocks_of, lines_of, page_structure, text_regions
from extensions.polygon_geometry import Bounds, Ring


@dataclass(frozen=True)
class Piece:
    """A detected line piece; `label` is what the test calls it (the detector knows nothing of it)."""

    polygon: Ring
    confidence: float = 0.9
    label: str = ""


@dataclass(frozen=True)
class Box:
    """A layout model's box."""

    box: Bounds
    region_type: str
    confidence: float = 0.8


def rect(x0: float, y0: float, x1: float, y1: float) -> Ring:
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))


def column(label: str, x0: float, x1: float, top: float, count: int, pitch: float = 40) -> list[Piece]:
    """`count` lines 30 px tall, `pitch` apart, labelled `label1`, `label2`, …"""
    return [
        Piece(rect(x0, top + i * pitch, x1, top + i * pitch + 30), label=f"{label}{i + 1}")
        for i in range(count)
    ]


def read_labels(structure, pieces: list[Piece]) -> list[str]:
    """The labels of the structure's lines in its order (a joined line: its pieces' labels with `+`)."""
    by_ring = {piece.polygon: piece.label for piece in pieces}
    labels = []
    for line in lines_of(structure):
        found = by_ring.get(line.polygon)
        if found is None:  # joined from several pieces: every piece inside its box
            x0, y0 = min(x for x, _ in line.polygon), min(y for _, y in line.polygon)
            x1, y1 = max(x for x, _ in line.polygon), max(y for _, y in line.polygon)
            inside = [
                p
                for p in pieces
                if x0 <= p.polygon[0][0] and p.polygon[2][0] <= x1 and y0 <= p.polygon[0][1] <= y1
            ]
            found = "+".join(p.label for p in sorted(inside, key=lambda p: p.polygon[0][0]))
        labels.append(found)
    return labels


def two_column_page() -> tuple[list[Piece], list[Box]]:
    """Header, full-width title, two columns (the right one with a figure and its caption), footer; the
    columns' line gaps line up, so cutting the whole page into rows would read across the columns."""
    pieces = [
        Piece(rect(100, 20, 400, 45), label="header"),
        Piece(rect(850, 20, 900, 45), label="page-number"),
        Piece(rect(200, 80, 800, 130), label="title"),
        *column("left", 100, 480, 200, 12),
        *column("right", 520, 900, 200, 4),
        Piece(rect(540, 560, 700, 590), label="in-figure"),  # text inside the figure: a label on a plate
        Piece(rect(520, 680, 880, 710), label="caption"),
        *column("after", 520, 900, 760, 2),
        Piece(rect(450, 900, 550, 925), label="footer"),
    ]
    layout = [
        Box((90, 10, 910, 50), "header"),
        Box((190, 75, 810, 135), "title"),
        Box((90, 195, 490, 675), "paragraph"),
        Box((510, 195, 910, 355), "paragraph"),
        Box((520, 380, 900, 660), "figure"),
        Box((510, 675, 890, 715), "caption"),
        Box((510, 755, 910, 835), "paragraph"),
        Box((440, 890, 560, 930), "footer"),
    ]
    return pieces, layout


def test_two_columns_are_read_column_by_column_with_header_first_and_footer_last() -> None:
    pieces, layout = two_column_page()
    structure = page_structure(pieces, layout)
    expected = [
        "header",
        "page-number",
        "title",
        *(f"left{i}" for i in range(1, 13)),
        *(f"right{i}" for i in range(1, 5)),
        "caption",
        "after1",
        "after2",
        "footer",
    ]
    assert read_labels(structure, pieces) == expected
    types = [(block.id, block.region_type) for block in blocks_of(structure)]
    assert [t for _, t in types] == [
        "header",  # the running title and the page number: two lines of one block
        "title",
        "paragraph",
        "paragraph",
        "figure",
        "caption",
        "paragraph",
        "footer",
    ]


def test_every_line_belongs_to_a_block_and_ids_follow_reading_order() -> None:
    pieces, layout = two_column_page()
    structure = page_structure(pieces, layout)
    blocks = blocks_of(structure)
    assert [b.id for b in blocks] == [f"b{i:04d}" for i in range(1, len(blocks) + 1)]
    lines = lines_of(structure)
    assert [line.id for line in lines] == [f"r{i:04d}" for i in range(1, len(lines) + 1)]
    assert {line.parent for line in lines} <= {b.id for b in blocks}
    # each block is followed by its own lines, top to bottom
    current = None
    for region in structure:
        if region.region_type == "line":
            assert region.parent == current.id
        else:
            current = region
    assert page_structure(pieces, layout) == structure  # the same input gives the same ids


def test_a_figure_is_a_block_without_text_and_its_inside_is_not_read() -> None:
    pieces, layout = two_column_page()
    structure = page_structure(pieces, layout)
    (figure,) = [b for b in blocks_of(structure) if b.region_type == "figure"]
    assert not [line for line in lines_of(structure) if line.parent == figure.id]
    assert "in-figure" not in read_labels(structure, pieces)
    assert figure not in text_regions(structure)
    assert all(region.region_type != "figure" for region in text_regions(structure))


def test_three_columns_without_a_layout_model() -> None:
    pieces = [
        Piece(rect(100, 20, 1200, 70), label="title"),
        *column("a", 100, 450, 150, 8),
        *column("b", 480, 820, 150, 8),
        *column("c", 850, 1200, 150, 5),
    ]
    structure = page_structure(pieces)
    expected = [
        "title",
        *(f"a{i}" for i in range(1, 9)),
        *(f"b{i}" for i in range(1, 9)),
        *(f"c{i}" for i in range(1, 6)),
    ]
    assert read_labels(structure, pieces) == expected
    assert {b.region_type for b in blocks_of(structure)} == {"paragraph"}
    assert len(blocks_of(structure)) == 4


def test_pieces_of_a_typed_line_are_one_line_but_columns_are_never_joined() -> None:
    # typescript: the detector cut lines 2 and 4 at a double space after a full stop
    typed = [
        Piece(rect(100, 100, 900, 130), label="t1"),
        Piece(rect(100, 180, 520, 210), label="t2a"),
        Piece(rect(545, 181, 900, 211), label="t2b"),
        Piece(rect(100, 260, 900, 290), label="t3"),
        Piece(rect(100, 340, 300, 370), label="t4a"),
        Piece(rect(330, 339, 900, 369), label="t4b"),
    ]
    structure = page_structure(typed)
    assert read_labels(structure, typed) == ["t1", "t2a+t2b", "t3", "t4a+t4b"]
    assert len(lines_of(structure)) == 4
    # two columns 40 px apart (under the joining gap): lines on one baseline stay apart
    columns = [*column("left", 100, 480, 100, 6), *column("right", 520, 900, 100, 6)]
    assert read_labels(page_structure(columns), columns) == [
        *(f"left{i}" for i in range(1, 7)),
        *(f"right{i}" for i in range(1, 7)),
    ]


def test_a_line_far_from_its_neighbour_on_the_row_stays_a_line_of_its_own() -> None:
    pieces = [Piece(rect(100, 20, 400, 50), label="running-title"), Piece(rect(850, 20, 890, 50), label="12")]
    pieces += column("body", 100, 890, 100, 3)
    assert read_labels(page_structure(pieces), pieces) == ["running-title", "12", "body1", "body2", "body3"]


@pytest.mark.parametrize("layout", [[], [Box((0, 0, 100, 100), "paragraph")]])
def test_a_page_with_no_text_has_an_empty_structure(layout: list[Box]) -> None:
    assert page_structure([], layout) == []


def test_a_page_with_only_a_figure_lists_the_figure() -> None:
    (figure,) = page_structure([], [Box((10, 10, 200, 300), "figure", 0.77)])
    assert (figure.id, figure.region_type, figure.confidence) == ("b0001", "figure", 0.77)
    assert text_regions([figure]) == []


def test_a_figure_box_full_of_text_lines_is_text() -> None:
    # the CDLA layout model calls whole pages of verse or typescript `figure`: their lines must stay
    pieces = column("verse", 100, 600, 100, 20)
    structure = page_structure(pieces, [Box((90, 90, 610, 900), "figure", 0.7)])
    assert read_labels(structure, pieces) == [f"verse{i}" for i in range(1, 21)]
    assert [b.region_type for b in blocks_of(structure)] == ["paragraph"]


def test_a_signature_is_a_graphic_block_but_a_rotated_line_is_text() -> None:
    body = column("body", 100, 900, 100, 6)
    signature = Piece(rect(600, 400, 760, 520), label="signature")  # four line heights tall, boxy
    # a marginal note rotated by 25 degrees: its upright box is tall and boxy, the line itself long and thin
    angle = math.radians(25)
    along, across = (math.cos(angle), -math.sin(angle)), (math.sin(angle), math.cos(angle))
    corners = [(0, 0), (400, 0), (400, 30), (0, 30)]
    note = Piece(
        tuple((950 + x * along[0] + y * across[0], 700 + x * along[1] + y * across[1]) for x, y in corners),
        label="note",
    )
    structure = page_structure([*body, signature, note])
    assert [b.region_type for b in blocks_of(structure)].count("graphic") == 1
    (graphic,) = [b for b in blocks_of(structure) if b.region_type == "graphic"]
    assert (graphic.polygon[0], graphic.polygon[2]) == ((600, 400), (760, 520))
    assert "signature" not in read_labels(structure, [*body, signature, note])
    assert "note" in read_labels(structure, [*body, signature, note])
