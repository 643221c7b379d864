"""Format detection, dispatch, loading files, and the promise that only AnnotationError ever escapes."""

import contextlib
import json
from pathlib import Path

import pytest

from extensions.annotations import AnnotationError, detect_format, load_annotations, parse_annotations

FIXTURES = Path(__file__).parent / "fixtures" / "annotations"
VALID = {
    "page_2019.xml": ("page_xml", 8),
    "page_2010_point_children.xml": ("page_xml", 3),
    "page_transkribus.xml": ("page_xml", 6),
    "page_ocrd.xml": ("page_xml", 9),
    "page_kraken.xml": ("page_xml", 5),
    "alto_escriptorium.xml": ("alto_xml", 11),
    "alto_v4_polygons.xml": ("alto_xml", 7),
    "alto_v2_boxes.xml": ("alto_xml", 6),
    "w3c_collection.json": ("w3c", 7),
    "iiif_p3_annotation_page.json": ("iiif", 4),
    "iiif_p2_annotation_list.json": ("iiif", 2),
    "custom_regions.json": ("custom_json", 4),
}
INVALID = {
    "invalid_malformed.xml": ("document", "not well-formed XML"),
    "invalid_truncated.json": ("document", "not valid JSON"),
    "invalid_unknown_root.xml": ("document", "unknown XML root element 'TEI'"),
    "invalid_page_two_points.xml": ("tl_degenerate", "at least 3 distinct points"),
    "invalid_alto_missing_box.xml": ("P1_ST2", "missing HPOS"),
    "invalid_alto_nan_polygon.xml": ("block_1", "'NaN' is not a number"),
    "invalid_w3c_curve.json": ("https://example.org/anno/ellipse", "'C' is not a straight line"),
    "invalid_iiif_two_point_svg.json": ("https://example.org/iiif/book1/annotation/p0002-l2", "3 distinct"),
    "invalid_custom_nan.json": ("r2", "not a finite number"),
    "invalid_custom_missing_coordinates.json": ("regions[1]", "missing coordinates"),
}


def test_every_fixture_is_listed():
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted([*VALID, *INVALID])


@pytest.mark.parametrize(("name", "expected"), VALID.items())
def test_valid_fixtures_are_detected_and_parsed(name, expected):
    data = (FIXTURES / name).read_bytes()
    assert detect_format(data) == expected[0]
    regions = load_annotations(FIXTURES / name, image_size=(3000, 2000))
    assert len(regions) == expected[1]
    assert regions == parse_annotations(data, (3000, 2000))


@pytest.mark.parametrize(("name", "expected"), INVALID.items())
def test_invalid_fixtures_name_the_failing_item(name, expected):
    with pytest.raises(AnnotationError) as caught:
        load_annotations(FIXTURES / name, image_size=(3000, 2000))
    assert caught.value.item == expected[0]
    assert expected[1] in caught.value.reason
    assert str(caught.value) == f"{caught.value.item}: {caught.value.reason}"


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"image_id": "p", "regions": []}, "custom_json"),
        ({"regions": []}, "custom_json"),
        ({"@context": "http://iiif.io/api/presentation/3/context.json", "type": "Annotation"}, "iiif"),
        ({"@context": ["http://iiif.io/api/presentation/2/context.json"], "@type": "x"}, "iiif"),
        ({"type": "AnnotationPage"}, "iiif"),
        ({"@type": "sc:AnnotationList"}, "iiif"),
        ({"@context": "http://www.w3.org/ns/anno.jsonld", "type": "AnnotationPage"}, "iiif"),
        ({"@context": "http://www.w3.org/ns/anno.jsonld"}, "w3c"),
        ({"type": "Annotation"}, "w3c"),
        ({"type": "AnnotationCollection"}, "w3c"),
        ([], "w3c"),
    ],
)
def test_json_detection(document, expected):
    assert detect_format(json.dumps(document).encode()) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- c -->\n<PcGts xmlns="x">', "page_xml"),
        (b'\n  <alto xmlns="http://www.loc.gov/standards/alto/ns-v2#"><Layout/></alto>', "alto_xml"),
        (b'\n\t{"regions": []}', "custom_json"),
    ],
)
def test_detection_skips_bom_whitespace_and_prolog(data, expected):
    assert detect_format(data) == expected


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "not an XML or JSON document"),
        (b"x,y\n1,2\n", "not an XML or JSON document"),
        (b'{"type": "Manifest"}', "unknown JSON format"),
        (b"<html><body/></html>", "unknown XML root element 'html'"),
        (b"<", "not well-formed XML"),
        (b'  <?xml version="1.0"?><PcGts/>', "not well-formed XML"),
        (b"[1,", "not valid JSON"),
    ],
)
def test_unknown_documents(data, reason):
    with pytest.raises(AnnotationError) as caught:
        parse_annotations(data)
    assert caught.value.item == "document"
    assert reason in caught.value.reason


def test_unreadable_file_names_the_path(tmp_path):
    missing = tmp_path / "missing.xml"
    with pytest.raises(AnnotationError) as caught:
        load_annotations(missing)
    assert caught.value.item == str(missing)


def _mutations(value: object) -> list[object]:
    """Copies of a JSON value with one node replaced by another type (or a key dropped), one per change."""
    found: list[object] = [None, 0, -1.5, "x", [], {}, True, float("nan")]
    if isinstance(value, dict):
        for key in value:
            found += [{**value, key: m} for m in _mutations(value[key])]
            found.append({k: v for k, v in value.items() if k != key})
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += [[*value[:index], m, *value[index + 1 :]] for m in _mutations(item)]
    return found


@pytest.mark.parametrize("name", [n for n in VALID if n.endswith(".json")])
def test_json_mutations_raise_only_annotation_errors(name):
    document = json.loads((FIXTURES / name).read_bytes())
    for mutated in _mutations(document):
        with contextlib.suppress(AnnotationError):
            parse_annotations(json.dumps(mutated).encode(), image_size=(3000, 2000))


@pytest.mark.parametrize("name", [n for n in VALID if n.endswith(".xml")])
def test_truncated_and_mangled_xml_raises_only_annotation_errors(name):
    data = (FIXTURES / name).read_bytes()
    variants = [data[:cut] for cut in range(0, len(data), 97)]
    variants += [data.replace(token, b"x", 1) for token in (b'="', b",", b" ", b"<", b">", b"0")]
    for variant in variants:
        with contextlib.suppress(AnnotationError):
            parse_annotations(variant)
