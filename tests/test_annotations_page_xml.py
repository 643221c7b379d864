"""PAGE XML: regions, lines and words with their exact polygons, texts and confidences."""

from pathlib import Path

import pytest

from extensions.annotations import AnnotatedRegion, AnnotationError, SkippedItem
from extensions.annotations.page_xml import NO_OUTLINE, parse

FIXTURES = Path(__file__).parent / "fixtures" / "annotations"


def page(body: str, namespace: str = "2019-07-15") -> bytes:
    """A minimal PcGts document around `body`."""
    return (
        f'<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/{namespace}">'
        f'<Page imageFilename="p.png" imageWidth="100" imageHeight="100">{body}</Page></PcGts>'
    ).encode()


def test_page_2019_regions_lines_and_words_in_document_order():
    regions = parse((FIXTURES / "page_2019.xml").read_bytes())
    image = "ms_0042_f017r.jpg"
    assert regions == [
        AnnotatedRegion(
            "r_1",
            ((210, 180), (1490, 172), (1496, 330), (214, 338)),
            "TextRegion",
            None,
            "Anno Domini\nmcccxlviii",
            image,
            (("structure.type", "heading"), ("readingOrder.index", "0")),
        ),
        AnnotatedRegion(
            "r_1_l_1",
            ((220, 190), (1480, 184), (1482, 250), (222, 256)),
            "TextLine",
            0.93,
            "Anno Domini",
            image,
        ),
        AnnotatedRegion(
            "r_1_l_1_w_1", ((220, 190), (610, 188), (612, 254), (222, 256)), "Word", 0.97, "Anno", image
        ),
        AnnotatedRegion(
            "r_1_l_2",
            ((224, 262), (1486, 256), (1490, 324), (226, 330)),
            "TextLine",
            0.88,
            "mcccxlviii",
            image,
        ),
        AnnotatedRegion(
            "r_2",
            ((200, 400), (2280, 400), (2280, 640), (200, 640)),
            "TextRegion",
            None,
            None,
            image,
            (("structure.type", "paragraph"), ("readingOrder.index", "1")),
        ),
        AnnotatedRegion(
            "r_2_l_1",
            ((210, 410), (2270, 410), (2270, 480), (210, 480)),
            "TextLine",
            0.812,
            "In nomine patris et filii",
            image,
        ),
        AnnotatedRegion(
            "r_2_l_2",
            ((210, 490), (2270, 490), (2270, 560), (210, 560)),
            "TextLine",
            0.9,
            "et spiritus sancti amen",
            image,
        ),
        AnnotatedRegion(
            "r_2_l_3", ((210, 570), (1200, 570), (1200, 630), (210, 630)), "TextLine", None, None, image
        ),
    ]


def test_closing_point_is_dropped():
    region = parse((FIXTURES / "page_2019.xml").read_bytes())[4]
    assert region.id == "r_2"
    assert len(region.polygon) == 4


def test_lowest_text_equiv_index_is_the_main_reading():
    line = parse((FIXTURES / "page_2019.xml").read_bytes())[3]
    assert (line.text, line.confidence) == ("mcccxlviii", 0.88)


def test_page_2010_point_children():
    regions = parse((FIXTURES / "page_2010_point_children.xml").read_bytes())
    assert [(r.id, r.region_type, r.text) for r in regions] == [
        ("r0", "TextRegion", None),
        ("r0_l0", "TextLine", "The quick brown fox"),
        ("r0_l1", "TextLine", "jumps over"),
    ]
    assert regions[1].polygon == ((130, 310), (1570, 310), (1570, 360), (130, 360))
    assert {r.source_image for r in regions} == {"00000231.tif"}


@pytest.mark.parametrize("namespace", ["2009-03-16", "2013-07-15", "2016-07-15", "2017-07-15", "2019-07-15"])
def test_any_page_namespace_version(namespace):
    body = '<TextRegion id="r"><Coords points="0,0 10,0 10,10"/></TextRegion>'
    assert parse(page(body, namespace))[0].polygon == ((0, 0), (10, 0), (10, 10))


@pytest.mark.parametrize(
    ("body", "item", "reason"),
    [
        ('<TextRegion id="r"><Coords points="0,0 10,0"/></TextRegion>', "r", "3 distinct points"),
        ('<TextRegion id="r"><Coords points="0,0 10,0 5,x"/></TextRegion>', "r", "'x' is not a number"),
        ('<TextRegion id="r"><Coords points="0,0 10,0 10"/></TextRegion>', "r", "x,y pairs"),
        ('<TextRegion id="r"><Coords points="0,0 5,5 10,10"/></TextRegion>', "r", "no area"),
        (
            '<TextRegion id="r"><Coords><Point x="0" y="0"/><Point x="5"/></Coords></TextRegion>',
            "r",
            "missing y",
        ),
        (
            '<TextRegion id="r"><Coords points="0,0 9,0 9,9"/><TextEquiv conf="1.5"><Unicode>a</Unicode>'
            "</TextEquiv></TextRegion>",
            "r",
            "outside 0..1",
        ),
        (
            '<TextRegion><Coords points="0,0 9,0 9,9"/></TextRegion>'
            '<TextRegion><Coords points="0,0 9,0"/></TextRegion>',
            "PcGts/Page/TextRegion[2]",
            "3 distinct points",
        ),
    ],
)
def test_invalid_elements_are_named(body, item, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(page(body))
    assert caught.value.item == item
    assert reason in caught.value.reason


def lines(regions: list[AnnotatedRegion]) -> list[tuple[str, str | None, dict[str, str]]]:
    """Id, text and properties of each TextLine."""
    return [(r.id, r.text, dict(r.properties)) for r in regions if r.region_type == "TextLine"]


def test_transkribus_custom_reading_order_types_and_regions_nested_in_a_table():
    regions = parse((FIXTURES / "page_transkribus.xml").read_bytes())
    assert [(r.id, r.region_type) for r in regions if r.region_type == "TextRegion"] == [
        ("r1", "TextRegion"),
        ("t1_c1", "TextRegion"),
        ("t1_c2", "TextRegion"),
    ]
    assert dict(regions[0].properties) == {"readingOrder.index": "0", "structure.type": "heading"}
    assert lines(regions) == [
        ("r1l1", "Actum den 3. Mai 1788", {"readingOrder.index": "0"}),
        ("t1_c1_l1", "Zinsen", {"readingOrder.index": "0"}),
        ("t1_c2_l1", "12 fl. 30 kr.", {"readingOrder.index": "0"}),
    ]
    assert regions[1].polygon == ((210, 210), (2190, 210), (2190, 320), (210, 320))
    assert regions.skipped == ()


def test_ocrd_reading_order_element_several_text_equivs_and_glyphs():
    regions = parse((FIXTURES / "page_ocrd.xml").read_bytes())
    order = {
        r.id: dict(r.properties).get("readingOrder.index") for r in regions if r.region_type == "TextRegion"
    }
    assert sorted(order, key=lambda region: int(order[region] or "-1")) == [
        "region0001",
        "region0002_cell0",
        "region0002_cell1",
        "region0003",
    ]
    line = next(r for r in regions if r.id == "region0001_line0001")
    assert (line.text, line.confidence) == ("Die Ueber\u017fchrift", 0.94)  # long s, index 1 of 2
    assert [r.id for r in regions if r.region_type == "Word"] == [
        "region0001_line0001_word0001",
        "region0001_line0001_word0002",
    ]
    assert dict(regions[0].properties)["structure.type"] == "paragraph"
    assert {r.source_image for r in regions} == {"OCR-D-IMG/OCR-D-IMG_0007.tif"}


def test_kraken_lines_without_coords_take_their_words_box_or_are_skipped_with_a_reason():
    regions = parse((FIXTURES / "page_kraken.xml").read_bytes())
    assert lines(regions) == [
        ("line_0", "Dear Sir, your letter of the 3rd", {"structure.type": "DefaultLine:Typewritten"}),
        ("line_1", "received gratefully", {"structure.type": "DefaultLine:Handwritten"}),
    ]
    assert regions[2].polygon == ((160, 320), (900, 320), (900, 410), (160, 410))  # around its two Words
    assert regions.skipped == (SkippedItem("line_2", NO_OUTLINE), SkippedItem("segment_2", NO_OUTLINE))


@pytest.mark.parametrize(
    ("body", "skipped"),
    [
        ('<TextRegion id="r"/>', ["r"]),
        ('<TextRegion id="r"><Coords points=""/></TextRegion>', ["r"]),
        (
            '<TextRegion id="r"><Coords/><TextLine id="l"><Baseline points="0,5 9,5"/></TextLine>'
            "</TextRegion>",
            ["r", "l"],
        ),
    ],
)
def test_elements_with_no_outline_at_all_are_skipped_not_fatal(body, skipped):
    found = parse(page(body + '<TextRegion id="kept"><Coords points="0,0 9,0 9,9"/></TextRegion>'))
    assert [r.id for r in found] == ["kept"]
    assert found.skipped == tuple(SkippedItem(item, NO_OUTLINE) for item in skipped)


def test_other_root_element_is_refused():
    with pytest.raises(AnnotationError, match="not PcGts"):
        parse(b'<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"/>')


def test_entity_declarations_are_refused():
    document = b'<?xml version="1.0"?><!DOCTYPE PcGts [<!ENTITY secret SYSTEM "file:///etc/passwd">]>' + page(
        '<TextRegion id="r"><Coords points="0,0 9,0 9,9"/><TextEquiv><Unicode>&secret;</Unicode>'
        "</TextEquiv></TextRegion>"
    )
    with pytest.raises(AnnotationError, match="entity declarations"):
        parse(document)
