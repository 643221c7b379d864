"""W3C Web Annotations: SVG and fragment selectors, target IRIs, collections, bodies and confidences."""

import json
from pathlib import Path

import pytest

from extensions.annotations import AnnotatedRegion, AnnotationError
from extensions.annotations.svg import path_points
from extensions.annotations.w3c import parse

FIXTURES = Path(__file__).parent / "fixtures" / "annotations"
CANVAS = "https://example.org/iiif/charter-1344/canvas/r"
SIZE = (3000, 2000)


def test_collection_with_embedded_pages():
    regions = parse((FIXTURES / "w3c_collection.json").read_bytes(), image_size=SIZE)
    anno = "https://example.org/anno/"
    assert regions == [
        AnnotatedRegion(
            f"{anno}1",
            ((100, 100), (1500, 110), (1490, 360), (110, 350)),
            "line",
            0.87,
            "Nouerint vniuersi",
            CANVAS,
        ),
        AnnotatedRegion(
            f"{anno}2", ((200, 400), (1000, 400), (1000, 520), (200, 520)), "text", 0.5, "presentes", CANVAS
        ),
        AnnotatedRegion(
            f"{anno}3",
            ((300, 600), (700, 600), (700, 700), (650, 720), (300, 720)),
            "text",
            None,
            "inspecturis",
            CANVAS,
        ),
        AnnotatedRegion(
            f"{anno}4", ((10, 10), (100, 10), (100, 80), (10, 80)), "text", None, "seal tag", CANVAS
        ),
        AnnotatedRegion(
            f"{anno}5", ((50, 60), (350, 60), (350, 100), (50, 100)), "text", None, "Johannes", CANVAS
        ),
        AnnotatedRegion(
            f"{anno}6", ((300, 400), (1200, 400), (1200, 500), (300, 500)), "text", None, "episcopus", CANVAS
        ),
        AnnotatedRegion(
            f"{anno}7",
            ((1000, 1200), (1500, 1200), (1500, 1280), (1000, 1280)),
            "text",
            None,
            "datum anno domini",
            CANVAS,
        ),
    ]


def test_percent_without_image_size_names_the_annotation():
    with pytest.raises(AnnotationError) as caught:
        parse((FIXTURES / "w3c_collection.json").read_bytes())
    assert caught.value.item == "https://example.org/anno/6"
    assert "percent" in caught.value.reason


def test_curved_path_names_the_annotation():
    with pytest.raises(AnnotationError) as caught:
        parse((FIXTURES / "invalid_w3c_curve.json").read_bytes())
    assert caught.value.item == "https://example.org/anno/ellipse"
    assert "'C'" in caught.value.reason


@pytest.mark.parametrize(
    ("d", "points"),
    [
        ("M0,0 L10,0 L10,10 Z", [(0, 0), (10, 0), (10, 10)]),
        ("m5 5 l10 0 0 10 -10 0 z", [(5, 5), (15, 5), (15, 15), (5, 15)]),
        ("M0 0H10V10H0z", [(0, 0), (10, 0), (10, 10), (0, 10)]),
        ("M 1 1 h 4 v 4 h -4", [(1, 1), (5, 1), (5, 5), (1, 5)]),
        ("M0,0 10,0 10-10", [(0, 0), (10, 0), (10, -10)]),
        ("M.5.5L1e1,.5 10 10", [(0.5, 0.5), (10, 0.5), (10, 10)]),
    ],
)
def test_straight_paths(d, points):
    assert path_points(d, "a") == points


@pytest.mark.parametrize(
    ("d", "reason"),
    [
        ("M0 0 Q5 5 10 0 Z", "'Q'"),
        ("M0 0 A5 5 0 0 1 10 0 Z", "'A'"),
        ("M0 0 c1 1 2 2 3 3", "'c'"),
        ("L0 0 10 0 10 10", "must start with a moveto"),
        ("M0 0 L10 0 10 10 Z M20 20 L30 20 30 30 Z", "continues after Z"),
        ("M0 0 L10 0 10 10 M20 20 L30 20 30 30", "more than one subpath"),
        ("M0 0 L10", "has 1 coordinates"),
        ("M0 0 L10 0 # 10 10", "unexpected '#'"),
        ("10 0 M0 0", "starts with a number"),
    ],
)
def test_unsupported_paths(d, reason):
    with pytest.raises(AnnotationError) as caught:
        path_points(d, "a")
    assert caught.value.item == "a"
    assert reason in caught.value.reason


def annotation(target: object, **extra: object) -> bytes:
    """One annotation on `target` as JSON."""
    return json.dumps({"id": "a1", "type": "Annotation", "target": target, **extra}).encode()


def svg_target(svg: str) -> dict:
    """A SpecificResource target with an SvgSelector."""
    return {"source": CANVAS, "selector": {"type": "SvgSelector", "value": svg}}


SVG = '<svg xmlns="http://www.w3.org/2000/svg">{}</svg>'


@pytest.mark.parametrize(
    ("shape", "points"),
    [
        ('<polygon points="0,0 10,0 10,10 0,10 0,0"/>', ((0, 0), (10, 0), (10, 10), (0, 10))),
        ('<polyline points="0 0 10 0 10 10"/>', ((0, 0), (10, 0), (10, 10))),
        ('<rect width="10px" height="5"/>', ((0, 0), (10, 0), (10, 5), (0, 5))),
        ('<g><rect x="1.5" y="2" width="10" height="5"/></g>', ((1.5, 2), (11.5, 2), (11.5, 7), (1.5, 7))),
    ],
)
def test_svg_shapes(shape, points):
    assert parse(annotation(svg_target(SVG.format(shape))))[0].polygon == points


@pytest.mark.parametrize(
    ("svg", "reason"),
    [
        (SVG.format('<circle cx="5" cy="5" r="5"/>'), "<circle> is not supported"),
        (SVG.format('<ellipse cx="5" cy="5" rx="5" ry="2"/>'), "<ellipse> is not supported"),
        (SVG.format('<polygon points="0,0 9,0 9,9" transform="scale(2)"/>'), "transforms"),
        (SVG.format('<polygon points="0,0 9,0 9,9"/><polygon points="0,0 9,0 9,9"/>'), "found 2"),
        (SVG.format(""), "found 0"),
        (SVG.format('<rect x="1" y="1" height="5"/>'), "no width"),
        (SVG.format('<rect width="0" height="5"/>'), "no area"),
        ("<svg><polygon points='0,0 9,0 9,9'></svg>", "not well-formed XML"),
    ],
)
def test_invalid_svg_names_the_annotation(svg, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(annotation(svg_target(svg)))
    assert caught.value.item == "a1"
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("fragment", "points"),
    [
        ("xywh=10,20,30,40", ((10, 20), (40, 20), (40, 60), (10, 60))),
        ("xywh=pixel:10,20,30,40", ((10, 20), (40, 20), (40, 60), (10, 60))),
        ("xywh=percent:50,25,50,50", ((100, 100), (200, 100), (200, 300), (100, 300))),
        ("t=10&xywh=1,2,3,4", ((1, 2), (4, 2), (4, 6), (1, 6))),
    ],
)
def test_fragments_in_selectors_and_target_iris(fragment, points):
    selector = {"source": CANVAS, "selector": {"type": "FragmentSelector", "value": fragment}}
    for target in (selector, f"{CANVAS}#{fragment}", {"id": f"{CANVAS}#{fragment}", "type": "Canvas"}):
        region = parse(annotation(target), image_size=(200, 400))[0]
        assert (region.polygon, region.source_image) == (points, CANVAS)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (f"{CANVAS}#xywh=1,2,3", "is not xywh="),
        (f"{CANVAS}#xywh=inch:1,2,3,4", "is not xywh="),
        (f"{CANVAS}#xywh=1,2,0,4", "has no area"),
        (f"{CANVAS}#xywh=1,2,nan,4", "'nan' is not a number"),
        (f"{CANVAS}#t=10", "no single xywh="),
        (f"{CANVAS}#xywh=percent:1,2,3,4", "need the image size"),
        (CANVAS, "whole-image target needs the size"),
        ([f"{CANVAS}#xywh=1,2,3,4", f"{CANVAS}#xywh=5,6,7,8"], "2 targets"),
        ({"source": CANVAS, "selector": {"type": "PointSelector", "x": 5, "y": 5}}, "['PointSelector']"),
        ({"source": CANVAS, "selector": {"type": "FragmentSelector", "value": 12}}, "not a string"),
        (
            {"source": {"type": "Canvas"}, "selector": {"type": "FragmentSelector", "value": "xywh=1,2,3,4"}},
            "no id",
        ),
        ({"type": "SpecificResource"}, "neither a selector nor an id"),
        (42, "target is not a JSON object"),
        (None, "target is not a JSON object"),
    ],
)
def test_invalid_targets_name_the_annotation(target, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(annotation(target))
    assert caught.value.item == "a1"
    assert reason in caught.value.reason


def test_whole_image_target_with_image_size():
    assert parse(annotation(CANVAS), image_size=(20, 10))[0].polygon == ((0, 0), (20, 0), (20, 10), (0, 10))


def test_body_confidence_wins_over_annotation_confidence():
    body = {"type": "TextualBody", "value": "x", "confidence": 0.25}
    region = parse(annotation(f"{CANVAS}#xywh=1,2,3,4", body=body, confidence=0.75))[0]
    assert (region.text, region.confidence) == ("x", 0.25)


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"confidence": "high"}, "confidence 'high' is not a number"),
        ({"confidence": 7}, "outside 0..1"),
        ({"body": {"type": "TextualBody", "value": 3}}, "value is not a string"),
        ({"textGranularity": ["line"]}, "textGranularity is not a string"),
        ({"type": "Highlight"}, "expected an Annotation"),
        ({"id": 7}, "id is not a string"),
    ],
)
def test_invalid_annotation_fields(extra, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(annotation(f"{CANVAS}#xywh=1,2,3,4", **extra))
    assert reason in caught.value.reason


def test_list_of_annotations_labels_by_index_when_id_is_missing():
    good = {"type": "Annotation", "target": f"{CANVAS}#xywh=1,2,3,4"}
    bad = {"type": "Annotation", "target": f"{CANVAS}#xywh=1,2,3"}
    assert [r.id for r in parse(json.dumps([good]).encode())] == ["[0]"]
    with pytest.raises(AnnotationError) as caught:
        parse(json.dumps([good, bad]).encode())
    assert caught.value.item == "[1]"


@pytest.mark.parametrize(
    ("document", "item", "reason"),
    [
        ({"type": "AnnotationCollection"}, "document", "neither items nor first"),
        ({"type": "AnnotationCollection", "first": "https://example.org/page1"}, "first", "not fetched"),
        (
            {"type": "AnnotationCollection", "first": {"items": [], "next": "https://x/2"}},
            "first.next",
            "not fetched",
        ),
        ({"type": "AnnotationCollection", "items": [5]}, "items[0]", "not a JSON object"),
        ({"type": "AnnotationPage", "items": {}}, "items", "expected a list"),
        ({"type": "Manifest"}, "document", "not 'Manifest'"),
        (5, "document", "not a JSON object"),
    ],
)
def test_invalid_containers(document, item, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(json.dumps(document).encode())
    assert caught.value.item == item
    assert reason in caught.value.reason
