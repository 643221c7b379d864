"""IIIF Presentation 3 annotation pages and Presentation 2 annotation lists."""

import json
from pathlib import Path

import pytest

from extensions.annotations import AnnotatedRegion, AnnotationError
from extensions.annotations.iiif import parse

FIXTURES = Path(__file__).parent / "fixtures" / "annotations"
CANVAS = "https://example.org/iiif/book1/canvas/p1"
ANNOTATION = "https://example.org/iiif/book1/annotation/"


def test_presentation_3_supplementing_annotation_page():
    assert parse((FIXTURES / "iiif_p3_annotation_page.json").read_bytes()) == [
        AnnotatedRegion(
            f"{ANNOTATION}p0001-l1",
            ((300, 200), (1500, 200), (1500, 290), (300, 290)),
            "line",
            None,
            "Chapter the First",
            CANVAS,
        ),
        AnnotatedRegion(
            f"{ANNOTATION}p0001-l2",
            ((300, 310), (1450, 310), (1450, 398), (300, 398)),
            "line",
            0.74,
            "It was a dark and stormy night;",
            CANVAS,
        ),
        AnnotatedRegion(
            f"{ANNOTATION}p0001-l3",
            ((300, 410), (1460, 404), (1462, 492), (302, 498)),
            "line",
            None,
            "the rain fell in torrents",
            CANVAS,
        ),
        AnnotatedRegion(
            f"{ANNOTATION}p0001-w1",
            ((300, 200), (610, 200), (610, 290), (300, 290)),
            "word",
            None,
            "Chapter",
            CANVAS,
        ),
    ]


def test_presentation_2_annotation_list_prefers_the_svg_of_a_choice():
    assert parse((FIXTURES / "iiif_p2_annotation_list.json").read_bytes()) == [
        AnnotatedRegion(
            f"{ANNOTATION}anno-1",
            ((100, 100), (300, 100), (300, 250), (100, 250)),
            text="<p>Marginal note</p>",
            source_image=CANVAS,
        ),
        AnnotatedRegion(
            f"{ANNOTATION}anno-2",
            ((400, 500), (700, 500), (700, 560), (400, 560)),
            text="Hello world",
            source_image=CANVAS,
        ),
    ]


def test_single_presentation_3_annotation():
    document = {"id": "a", "type": "Annotation", "target": f"{CANVAS}#xywh=0,0,5,5"}
    assert parse(json.dumps(document).encode())[0].polygon == ((0, 0), (5, 0), (5, 5), (0, 5))


def test_flat_svg_names_the_annotation():
    with pytest.raises(AnnotationError) as caught:
        parse((FIXTURES / "invalid_iiif_two_point_svg.json").read_bytes())
    assert caught.value.item == "https://example.org/iiif/book1/annotation/p0002-l2"
    assert "3 distinct points" in caught.value.reason


@pytest.mark.parametrize(
    ("document", "item", "reason"),
    [
        ({"type": "Manifest", "items": []}, "document", "not 'Manifest'"),
        ({"@type": "sc:AnnotationList", "resources": {}}, "resources", "expected a list"),
        ({"@type": "sc:AnnotationList", "resources": [{"@type": "oa:Annotation"}]}, "resources[0]", "target"),
        ([], "document", "not a JSON object"),
    ],
)
def test_invalid_documents(document, item, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(json.dumps(document).encode())
    assert caught.value.item == item
    assert reason in caught.value.reason
