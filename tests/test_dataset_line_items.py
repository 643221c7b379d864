"""What goes into a dataset: line texts, structure types left out, the image each annotation file names."""

import asyncio
from pathlib import Path

import pytest

from extensions.annotations import AnnotatedRegion, AnnotationError
from models.dataset.image_names import ImageFinder, annotation_stems, read_image_map
from models.dataset.line_items import ItemSelection, LineItem
from models.dataset.line_text import line_text

SQUARE = ((0.0, 0.0), (9.0, 0.0), (9.0, 9.0), (0.0, 9.0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Gr\u04e7\u00dfe und \u04d2rger, w\u04d3hrend  ", "Gr\u00f6\u00dfe und \u00c4rger, w\u00e4hrend"),
        ("Cyrillic script keeps it: \u0421\u04d3\u0440", "Cyrillic script keeps it: \u0421\u04d3\u0440"),
        ("a\u0308 decomposed", "\u00e4 decomposed"),  # NFC
        ("e\u00ac", "e\u00ac"),  # a word broken at the line end keeps its sign
        ("\u017fo", "\u017fo"),  # long s stays
    ],
)
def test_line_text_is_nfc_with_cyrillic_lookalikes_mapped_in_latin_lines(text, expected):
    assert line_text(text) == expected


def line(structure_type: str | None, region_type: str = "TextLine", text: str = "ink") -> LineItem:
    """A line item with this structure type."""
    properties = [("structure.type", structure_type)] if structure_type else []
    return LineItem("p", AnnotatedRegion("l", SQUARE, region_type, properties=properties), text, "train")


@pytest.mark.parametrize(
    ("structure_type", "reason"),
    [
        *((kept, None) for kept in ("DefaultLine", "HeadingLine", "DropCapitalLine", "InterlinearLine")),
        *((kept, None) for kept in ("default", None, "DefaultLine:Print", "DefaultLine:Typewritten")),
        ("DefaultLine:Signature", "excluded_type:DefaultLine:Signature"),
        ("InterlinearLine:Handwritten", "excluded_type:InterlinearLine:Handwritten"),
    ],
)
def test_a_print_only_selection_keeps_every_text_line_but_the_types_named(structure_type, reason):
    print_only = ItemSelection(excluded_types=frozenset({"handwritten", "signature"}))
    assert print_only.reason_to_skip(line(structure_type)) == reason
    assert ItemSelection().reason_to_skip(line(structure_type)) is None


def test_words_blocks_and_empty_lines_are_left_out_by_type_and_text():
    assert ItemSelection().reason_to_skip(line(None, "String")) == "other_type:String"
    assert ItemSelection().reason_to_skip(line(None, text="")) == "no_text"


def test_annotation_stems_drop_a_format_tag_only():
    assert annotation_stems(Path("gt/p12.page.xml")) == ["p12.page", "p12"]
    assert annotation_stems(Path("ms.0042.f017r.xml")) == ["ms.0042.f017r"]
    assert annotation_stems(Path("a.w3c")) == ["a"]


def test_image_map_reads_named_columns_of_a_manifest(tmp_path: Path):
    table = tmp_path / "manifest.tsv"
    table.write_text("id\timage\tgt\np1\timages/p1.jpg\tgt/p1.xml\np2\t\tgt/p2.xml\n", encoding="utf-8")
    assert read_image_map(table, ("gt", "image")) == {"p1.xml": "p1.jpg"}
    with pytest.raises(ValueError, match="'annotation'"):
        read_image_map(table)


def finder(*served: str, **options) -> ImageFinder:
    """An ImageFinder for a server that has exactly these identifiers."""

    async def exists(identifier: str) -> bool:
        return identifier in served

    return ImageFinder(exists, **options)


def source(name: str | None) -> list[AnnotatedRegion]:
    """One region naming `name` as its source image."""
    return [AnnotatedRegion("r", SQUARE, source_image=name)]


@pytest.mark.parametrize(
    ("path", "named", "served", "options", "expected"),
    [
        ("gt/g18-f12.xml", "bpt6k822192_f12.tif", ("g18-f12",), {}, "g18-f12"),  # the stem, first
        ("a.page.xml", "a.png", ("a.png", "a"), {}, "a.png"),  # the source, spelled as it has the same stem
        ("gt/x.xml", "https://h/iiif/3/x7/full/max/0/default.jpg", (), {}, "x7"),  # the source, unchecked
        ("gt/x.xml", "s.tif", ("x",), {"image_map": {"x": "mapped.jpg"}}, "mapped.jpg"),
        ("gt/x.xml", "s.tif", ("x",), {"given": "given"}, "given"),
    ],
)
def test_image_finder_order(path, named, served, options, expected):
    images = finder(*served, **options)
    assert asyncio.run(images.identifier(Path(path), source(named))) == expected


def test_image_finder_without_any_image_names_the_file():
    with pytest.raises(AnnotationError, match="no image named x, and not one source image"):
        asyncio.run(finder().identifier(Path("gt/x.xml"), source(None)))
