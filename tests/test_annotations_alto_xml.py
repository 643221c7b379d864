"""ALTO XML: polygons or HPOS/VPOS boxes, joined line texts, WC confidences and measurement units."""

from pathlib import Path

import pytest

from extensions.annotations import AnnotatedRegion, AnnotationError, SkippedItem
from extensions.annotations.alto_xml import NO_OUTLINE, parse

FIXTURES = Path(__file__).parent / "fixtures" / "annotations"


def test_alto_v4_shape_polygons_comma_or_space_separated():
    regions = parse((FIXTURES / "alto_v4_polygons.xml").read_bytes())
    image = "charter_1344_recto.png"
    assert regions[:3] == [
        AnnotatedRegion(
            "block_1",
            ((100, 100), (1500, 110), (1490, 360), (110, 350)),
            "TextBlock",
            None,
            "Nouerint vniuersi pre-\nsentes",
            image,
        ),
        AnnotatedRegion(
            "line_1",
            ((110, 110), (1490, 118), (1488, 220), (112, 214)),
            "TextLine",
            None,
            "Nouerint vniuersi pre-",
            image,
        ),
        AnnotatedRegion(
            "string_1", ((110, 112), (510, 114), (510, 214), (110, 212)), "String", 0.96, "Nouerint", image
        ),
    ]


def test_alto_v4_strings_without_shape_fall_back_to_their_box():
    regions = {r.id: r for r in parse((FIXTURES / "alto_v4_polygons.xml").read_bytes())}
    assert regions["string_2"].polygon == ((540, 112), (1100, 112), (1100, 216), (540, 216))
    assert (regions["string_2"].text, regions["string_2"].confidence) == ("vniuersi", 0.81)
    assert regions["line_2"].polygon == ((112, 230), (1488, 236), (1486, 350), (114, 344))
    assert list(regions) == ["block_1", "line_1", "string_1", "string_2", "string_3", "line_2", "string_4"]


def test_alto_v2_boxes():
    regions = parse((FIXTURES / "alto_v2_boxes.xml").read_bytes())
    assert [(r.id, r.region_type, r.text, r.confidence) for r in regions] == [
        ("P3_TB00001", "TextBlock", "LOCAL INTELLIGENCE\nYesterday", None),
        ("P3_TL00001", "TextLine", "LOCAL INTELLIGENCE", None),
        ("P3_ST00001", "String", "LOCAL", 0.99),
        ("P3_ST00002", "String", "INTELLIGENCE", 0.95),
        ("P3_TL00002", "TextLine", "Yesterday", None),
        ("P3_ST00003", "String", "Yesterday", 0.6),
    ]
    assert regions[0].polygon == ((150, 200), (1050, 200), (1050, 330), (150, 330))
    assert regions[5].polygon == ((150, 270), (850.5, 270), (850.5, 330), (150, 330))
    assert {r.source_image for r in regions} == {"newspaper_1871_p3.tif"}


def _in_mm10() -> bytes:
    """The v2 fixture with its coordinates declared in tenths of a millimetre."""
    data = (FIXTURES / "alto_v2_boxes.xml").read_bytes()
    return data.replace(b"<MeasurementUnit>pixel<", b"<MeasurementUnit>mm10<")


def test_physical_units_need_the_image_size():
    with pytest.raises(AnnotationError) as caught:
        parse(_in_mm10())
    assert (caught.value.item, caught.value.reason) == (
        "document",
        "mm10 coordinates need the image size and a Page size",
    )


def test_physical_units_scale_the_page_onto_the_image():
    block = parse(_in_mm10(), image_size=(1200, 1800))[0]
    assert block.polygon == ((75, 100), (525, 100), (525, 165), (75, 165))


def test_missing_measurement_unit_means_pixels():
    data = (
        (FIXTURES / "alto_v2_boxes.xml")
        .read_bytes()
        .replace(b"<MeasurementUnit>pixel</MeasurementUnit>", b"")
    )
    assert parse(data) == parse((FIXTURES / "alto_v2_boxes.xml").read_bytes())


def alto(body: str, unit: str = "pixel") -> bytes:
    """A minimal ALTO v3 document around a PrintSpace body."""
    return (
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#">'
        f"<Description><MeasurementUnit>{unit}</MeasurementUnit></Description>"
        f'<Layout><Page ID="p" WIDTH="100" HEIGHT="100"><PrintSpace>{body}</PrintSpace></Page></Layout>'
        "</alto>"
    ).encode()


@pytest.mark.parametrize(
    ("data", "item", "reason"),
    [
        (alto('<TextBlock ID="b" HPOS="1" VPOS="1" WIDTH="5"/>'), "b", "missing HEIGHT"),
        (alto('<TextBlock ID="b" HPOS="1" VPOS="1" WIDTH="0" HEIGHT="5"/>'), "b", "has no area"),
        (alto('<TextBlock ID="b"><Shape><Polygon POINTS="1 1 5 5"/></Shape></TextBlock>'), "b", "3 distinct"),
        (
            alto('<TextBlock ID="b"><Shape><Polygon POINTS="1 1 5 5 inf 1"/></Shape></TextBlock>'),
            "b",
            "not a number",
        ),
        (alto('<TextBlock ID="b" HPOS="1" VPOS="1" WIDTH="5" HEIGHT="5" WC="x"/>'), "b", "confidence 'x'"),
        (
            alto('<TextBlock HPOS="1" VPOS="1" WIDTH="5"/>'),
            "alto/Layout/Page/PrintSpace/TextBlock",
            "missing HEIGHT",
        ),
        (alto("", "furlong"), "document", "unknown MeasurementUnit 'furlong'"),
    ],
)
def test_invalid_elements_are_named(data, item, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(data)
    assert caught.value.item == item
    assert reason in caught.value.reason


def test_escriptorium_dummy_block_without_coordinates_keeps_its_lines():
    regions = parse((FIXTURES / "alto_escriptorium.xml").read_bytes())
    assert regions.skipped == ()
    by_id = {r.id: r for r in regions}
    dummy = by_id["eSc_dummyblock_"]
    assert dummy.polygon == ((300, 700), (1700, 700), (1700, 2120), (300, 2120))  # the box around its lines
    assert dummy.text == "wir bestätigen den Empfang Ihres Schreibens\nvom 2. März.\nJ. Huber"
    assert by_id["eSc_line_c4d2e019"].polygon == ((300, 830), (1200, 830), (1200, 920), (300, 920))
    assert {r.source_image for r in regions} == {"Brief_1907_03.jpg"}


def test_tagrefs_become_segmonto_structure_types():
    regions = parse((FIXTURES / "alto_escriptorium.xml").read_bytes())
    assert [
        (r.id, dict(r.properties).get("structure.type")) for r in regions if r.region_type != "String"
    ] == [
        ("eSc_textblock_5c1e0a2f", "MainZone"),
        ("eSc_line_0a41d7e2", "HeadingLine"),
        ("eSc_textblock_77e0c3aa", "StampZone"),
        ("eSc_dummyblock_", None),
        ("eSc_line_9f03b6c1", "DefaultLine:Typewritten"),
        ("eSc_line_c4d2e019", None),  # untyped
        ("eSc_line_2b8e55f0", "DefaultLine:Signature"),
    ]


def test_elements_with_no_outline_at_all_are_skipped_with_their_reason():
    regions = parse(
        alto(
            '<TextBlock ID="empty"><Shape><Polygon POINTS=""/></Shape></TextBlock>'
            '<TextBlock ID="b"><TextLine ID="l" BASELINE="0 9 9 9"><String CONTENT="ink"/></TextLine>'
            "</TextBlock>"
            '<TextBlock ID="kept" HPOS="1" VPOS="1" WIDTH="5" HEIGHT="5"/>'
        )
    )
    assert [r.id for r in regions] == ["kept"]
    string = "alto/Layout/Page/PrintSpace/TextBlock[2]/TextLine/String"
    assert regions.skipped == tuple(SkippedItem(item, NO_OUTLINE) for item in ("empty", "b", "l", string))
