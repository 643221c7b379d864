"""Writers for OCR results: PAGE 2019, ALTO v4 and IIIF AnnotationPages, read back by their own parsers."""

import json
from datetime import datetime

import pytest
from lxml import etree

from extensions.annotations import (
    AnnotatedRegion,
    AnnotationError,
    alto_xml,
    detect_format,
    iiif,
    page_xml,
    parse_annotations,
)
from extensions.annotations.layout import blocks

IMAGE = "ms 12 & <f.1r>.png"
SIZE = (1000, 800)
PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
PAGE = {"p": PAGE_NS}
ALTO = {"a": ALTO_NS}
TRICKY = 'Tom & "Jerry" <b>\'s</b> café'
CANVAS = "https://example.org/iiif/presentation/ms12/canvas/1"
PAGE_ID = "https://example.org/iiif/3/ms12/ocr.json"

LINES = [
    AnnotatedRegion(
        "r0001", ((100.4, 100.5), (500.6, 99.5), (501, 150), (99.5, 151)), "line", 0.91, "Anno Domini"
    ),
    AnnotatedRegion("r0002", ((100, 200), (600, 200), (600, 250), (100, 250)), "line", 0.5, TRICKY),
    AnnotatedRegion("r0003", ((100, 300), (400, 300), (400, 350), (100, 350)), "line", 0.77, None),
]


def rounded(region: AnnotatedRegion) -> tuple[tuple[int, int], ...]:
    """The polygon as the writers round it: half up, to whole pixels."""
    return tuple((int(x + 0.5), int(y + 0.5)) for x, y in region.polygon)


def by_id(regions: list[AnnotatedRegion]) -> dict[str, AnnotatedRegion]:
    return {region.id: region for region in regions}


# PAGE XML


def test_page_round_trip_of_lines_without_blocks():
    parsed = page_xml.parse(page_xml.serialize(LINES, IMAGE, SIZE))
    block, *lines = parsed
    assert block == AnnotatedRegion(
        "lines", ((100, 100), (600, 100), (600, 350), (100, 350)), "TextRegion", None, None, IMAGE
    )
    assert lines == [
        AnnotatedRegion(r.id, rounded(r), "TextLine", r.confidence if r.text else None, r.text, IMAGE)
        for r in LINES
    ]


def test_page_document_has_the_2019_namespace_metadata_and_page_attributes():
    root = etree.fromstring(page_xml.serialize(LINES, IMAGE, SIZE, creator="test-suite"))
    assert root.tag == f"{{{PAGE_NS}}}PcGts"
    assert root.findtext("p:Metadata/p:Creator", namespaces=PAGE) == "test-suite"
    created = datetime.fromisoformat(root.findtext("p:Metadata/p:Created", namespaces=PAGE))
    assert created.tzinfo is not None
    assert root.findtext("p:Metadata/p:LastChange", namespaces=PAGE) == created.isoformat()
    page = root.find("p:Page", PAGE)
    assert dict(page.attrib) == {"imageFilename": IMAGE, "imageWidth": "1000", "imageHeight": "800"}
    assert [e.get("id") for e in page.iterfind("p:TextRegion/p:TextLine", PAGE)] == [
        "r0001",
        "r0002",
        "r0003",
    ]
    assert all(c.get("points") for c in root.iterfind(".//p:Coords", PAGE))


def test_page_line_without_text_keeps_its_confidence_on_coords():
    root = etree.fromstring(page_xml.serialize(LINES, IMAGE, SIZE))
    line = root.find(".//p:TextLine[@id='r0003']", PAGE)
    assert line.find("p:TextEquiv", PAGE) is None
    assert line.find("p:Coords", PAGE).get("conf") == "0.77"
    equiv = root.find(".//p:TextLine[@id='r0001']/p:TextEquiv", PAGE)
    assert equiv.get("conf") == "0.91"
    assert equiv.findtext("p:Unicode", namespaces=PAGE) == "Anno Domini"


def test_page_ids_become_valid_xml_ids():
    regions = [
        AnnotatedRegion("0001", ((0, 0), (10, 0), (10, 10)), "line"),
        AnnotatedRegion("page 1/line#2", ((0, 20), (10, 20), (10, 30)), "line"),
    ]
    assert [r.id for r in page_xml.parse(page_xml.serialize(regions, IMAGE, SIZE))] == [
        "lines",
        "_0001",
        "page_1_line_2",
    ]


def test_page_points_are_clamped_to_the_image_and_a_polygon_outside_it_is_an_error():
    inside = AnnotatedRegion("l1", ((-5, 10), (1200, 10), (1200, 900), (-5, 900)), "line")
    assert page_xml.parse(page_xml.serialize([inside], IMAGE, SIZE))[1].polygon == (
        (0, 10),
        (1000, 10),
        (1000, 800),
        (0, 800),
    )
    outside = AnnotatedRegion("l2", ((1100, 10), (1200, 10), (1200, 90)), "line")
    with pytest.raises(AnnotationError) as error:
        page_xml.serialize([inside, outside], IMAGE, SIZE)
    assert error.value.item == "l2"


# ALTO XML


def test_alto_round_trip_of_lines_words_and_confidences():
    parsed = alto_xml.parse(alto_xml.serialize(LINES, IMAGE, SIZE))
    block_text = f"Anno Domini\n{TRICKY}\n"  # the parser joins the block's lines; the last one has no text
    assert parsed[0] == AnnotatedRegion(
        "lines", ((100, 100), (600, 100), (600, 350), (100, 350)), "TextBlock", None, block_text, IMAGE
    )
    lines = [r for r in parsed if r.region_type == "TextLine"]
    assert lines == [AnnotatedRegion(r.id, rounded(r), "TextLine", None, r.text, IMAGE) for r in LINES]
    strings = [r for r in parsed if r.region_type == "String"]
    assert [s.text for s in strings] == ["Anno", "Domini", *TRICKY.split(), ""]
    assert [s.confidence for s in strings] == [0.91, 0.91, *[0.5] * len(TRICKY.split()), 0.77]


def test_alto_document_is_v4_in_pixels_with_page_and_print_space():
    root = etree.fromstring(alto_xml.serialize(LINES, IMAGE, SIZE))
    assert root.tag == f"{{{ALTO_NS}}}alto"
    assert root.findtext("a:Description/a:MeasurementUnit", namespaces=ALTO) == "pixel"
    assert root.findtext("a:Description/a:sourceImageInformation/a:fileName", namespaces=ALTO) == IMAGE
    page = root.find("a:Layout/a:Page", ALTO)
    assert (page.get("WIDTH"), page.get("HEIGHT"), page.get("PHYSICAL_IMG_NR")) == ("1000", "800", "1")
    assert page.get("ID")
    space = page.find("a:PrintSpace", ALTO)
    assert [space.get(k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == ["0", "0", "1000", "800"]
    line = space.find("a:TextBlock/a:TextLine[@ID='r0002']", ALTO)
    assert [line.get(k) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT")] == ["100", "200", "500", "50"]
    assert line.find("a:Shape/a:Polygon", ALTO).get("POINTS") == "100,200 600,200 600,250 100,250"


def test_alto_word_boxes_split_the_line_box_by_character_counts():
    line = AnnotatedRegion("l", ((10, 0), (60, 0), (60, 20), (10, 20)), "line", 0.8, "ab  cd")
    root = etree.fromstring(alto_xml.serialize([line], IMAGE, SIZE))
    children = root.find(".//a:TextLine", ALTO).iterchildren("{*}String", "{*}SP")
    boxes = [(etree.QName(c).localname, c.get("CONTENT"), c.get("HPOS"), c.get("WIDTH")) for c in children]
    assert boxes == [("String", "ab", "10", "20"), ("SP", None, "30", "10"), ("String", "cd", "40", "20")]


def test_alto_line_without_text_gets_one_empty_string_over_the_line():
    root = etree.fromstring(alto_xml.serialize([LINES[2]], IMAGE, SIZE))
    (string,) = root.iterfind(".//a:TextLine/a:String", ALTO)
    assert dict(string.attrib) == {
        "CONTENT": "",
        "HPOS": "100",
        "VPOS": "300",
        "WIDTH": "300",
        "HEIGHT": "50",
        "WC": "0.77",
    }


# Shared by PAGE and ALTO


@pytest.mark.parametrize("module", [page_xml, alto_xml])
def test_lines_go_into_the_block_that_holds_their_centroid_and_the_rest_into_one_more(module):
    regions = [
        AnnotatedRegion("b1", ((90, 90), (700, 90), (700, 260), (90, 260)), "block", 0.6, "block text"),
        *LINES,
        AnnotatedRegion("lines", ((0, 0), (5, 0), (5, 5)), "TextLine"),  # takes the name of the extra block
    ]
    assert [(b.region.id, [line.id for line in b.lines]) for b in blocks(regions)] == [
        ("b1", ["r0001", "r0002"]),
        ("lines_2", ["r0003", "lines"]),
    ]
    root = etree.fromstring(module.serialize(regions, IMAGE, SIZE))
    block_tag, id_key = ("TextRegion", "id") if module is page_xml else ("TextBlock", "ID")
    found = [
        (block.get(id_key), [line.get(id_key) for line in block.iterfind("{*}TextLine")])
        for block in root.iter(f"{{*}}{block_tag}")
    ]
    assert found == [("b1", ["r0001", "r0002"]), ("lines_2", ["r0003", "lines"])]


@pytest.mark.parametrize("module", [page_xml, alto_xml])
def test_xml_special_characters_survive(module):
    line = AnnotatedRegion("l&1", ((0, 0), (10, 0), (10, 10)), "line", 1.0, TRICKY)
    data = module.serialize([line], IMAGE, SIZE)
    texts = [r.text for r in module.parse(data) if r.region_type in ("TextLine", "TextRegion")]
    assert texts[-1] == " ".join(TRICKY.split())
    assert all(r.source_image == IMAGE for r in module.parse(data))


@pytest.mark.parametrize("module", [page_xml, alto_xml])
def test_an_empty_page_is_a_valid_document(module):
    data = module.serialize([], IMAGE, SIZE)
    assert module.parse(data) == []
    assert detect_format(data) == module.__name__.rpartition(".")[2]


# IIIF Presentation 3


def test_supplementing_page_parses_back_as_iiif_to_the_same_polygons_and_texts():
    page = iiif.annotation_page(PAGE_ID, CANVAS, LINES, "supplementing")
    data = json.dumps(page).encode()
    assert detect_format(data) == "iiif"
    assert parse_annotations(data) == [
        AnnotatedRegion(f"{PAGE_ID}/{r.id}", rounded(r), "line", r.confidence, r.text, CANVAS) for r in LINES
    ]


def test_supplementing_annotation_shape():
    page = iiif.annotation_page(PAGE_ID, CANVAS, LINES, "supplementing")
    assert (page["@context"], page["id"], page["type"]) == (
        "http://iiif.io/api/presentation/3/context.json",
        PAGE_ID,
        "AnnotationPage",
    )
    first, _, textless = page["items"]
    assert first == {
        "id": f"{PAGE_ID}/r0001",
        "type": "Annotation",
        "motivation": "supplementing",
        "body": {
            "type": "TextualBody",
            "value": "Anno Domini",
            "format": "text/plain",
            "textGranularity": "line",
            "confidence": 0.91,
        },
        "target": {
            "type": "SpecificResource",
            "source": CANVAS,
            "selector": {
                "type": "SvgSelector",
                "value": "<svg xmlns='http://www.w3.org/2000/svg'>"
                "<path d='M100,101 L501,100 L501,150 L100,151 Z'/></svg>",
            },
        },
    }
    assert "body" not in textless
    assert textless["confidence"] == 0.77


def test_tagging_page_tags_the_region_type_and_links_the_masked_image():
    page = iiif.annotation_page(
        PAGE_ID, CANVAS, LINES[:1], "tagging", see_also=lambda r: f"https://example.org/{r.id}.png"
    )
    (item,) = page["items"]
    assert item["motivation"] == "tagging"
    assert item["body"] == {"type": "TextualBody", "value": "line", "purpose": "tagging", "confidence": 0.91}
    assert item["seeAlso"] == [
        {"id": "https://example.org/r0001.png", "type": "Image", "format": "image/png"}
    ]
    (region,) = parse_annotations(json.dumps(page).encode())
    assert (region.polygon, region.text, region.confidence) == (rounded(LINES[0]), "line", 0.91)


def test_annotation_ids_are_path_segments_without_a_fragment():
    region = AnnotatedRegion("a/b#c d", ((0, 0), (10, 0), (10, 10)), "line", None, TRICKY)
    page = iiif.annotation_page(PAGE_ID, CANVAS, [region], "supplementing")
    assert page["items"][0]["id"] == f"{PAGE_ID}/a%2Fb%23c%20d"
    (parsed,) = parse_annotations(json.dumps(page).encode())
    assert parsed.text == TRICKY


def test_empty_annotation_page():
    page = iiif.annotation_page(PAGE_ID, CANVAS, [], "supplementing")
    assert page["items"] == []
    assert parse_annotations(json.dumps(page).encode()) == []
