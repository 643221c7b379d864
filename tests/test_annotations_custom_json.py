"""The project's own JSON: pair or flat coordinates, types, confidences and the image id."""

import json
from pathlib import Path

import pytest

from extensions.annotations import AnnotatedRegion, AnnotationError
from extensions.annotations.custom_json import parse

FIXTURES = Path(__file__).parent / "fixtures" / "annotations"


def test_custom_regions():
    assert parse((FIXTURES / "custom_regions.json").read_bytes()) == [
        AnnotatedRegion(
            "r1",
            ((100, 100), (900, 100), (900, 400), (100, 400)),
            "block",
            0.9,
            "Lorem ipsum\ndolor sit",
            "page1",
        ),
        AnnotatedRegion(
            "r1_l1", ((110, 110), (890, 112), (888, 200), (112, 198)), "line", 0.95, "Lorem ipsum", "page1"
        ),
        AnnotatedRegion(
            "r1_l2", ((110.5, 210.25), (890, 212), (888, 300), (112, 298)), "line", None, "dolor sit", "page1"
        ),
        AnnotatedRegion("stamp", ((950, 50), (1100, 80), (1050, 200)), "text", None, None, "page1"),
    ]


@pytest.mark.parametrize(
    ("fixture", "item", "reason"),
    [
        ("invalid_custom_nan.json", "r2", "not a finite number"),
        ("invalid_custom_missing_coordinates.json", "regions[1]", "missing coordinates"),
    ],
)
def test_invalid_fixtures(fixture, item, reason):
    with pytest.raises(AnnotationError) as caught:
        parse((FIXTURES / fixture).read_bytes())
    assert caught.value.item == item
    assert reason in caught.value.reason


def document(region: dict) -> bytes:
    """A custom document with one region."""
    return json.dumps({"image_id": "p", "regions": [{"id": "r", **region}]}).encode()


@pytest.mark.parametrize(
    ("region", "reason"),
    [
        ({"coordinates": []}, "missing coordinates"),
        ({"coordinates": "0,0 1,0 1,1"}, "missing coordinates"),
        ({"coordinates": [0, 0, 1, 0, 1]}, "5 coordinates do not make x,y pairs"),
        ({"coordinates": [[0, 0], [1, 0], [1]]}, "every point must be [x, y]"),
        ({"coordinates": [[0, 0], [1, 0], 1, 1]}, "[0, 0] is not a number"),
        ({"coordinates": [[0, 0], [1, 0], [True, 1]]}, "True is not a number"),
        ({"coordinates": [[0, 0], [1e400, 0], [1, 1]]}, "not a finite number"),
        ({"coordinates": [[0, 0], [10**400, 0], [1, 1]]}, "not a finite number"),
        ({"coordinates": [[0, 0], [1, 0], [1, 1]], "confidence": -0.1}, "outside 0..1"),
        ({"coordinates": [[0, 0], [1, 0], [1, 1]], "type": 3}, "type is not a string"),
        ({"coordinates": [[0, 0], [1, 0], [1, 1]], "text": ["a"]}, "text is not a string"),
    ],
)
def test_invalid_regions(region, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(document(region))
    assert caught.value.item == "r"
    assert reason in caught.value.reason


def test_numeric_strings_are_numbers():
    assert parse(document({"coordinates": [[0, 0], [" 1 ", 0], ["1", "1e0"]]}))[0].polygon == (
        (0, 0),
        (1, 0),
        (1, 1),
    )


@pytest.mark.parametrize(
    ("data", "item", "reason"),
    [
        (b'{"image_id": 5, "regions": []}', "document", "image_id is not a string"),
        (b'{"image_id": "p"}', "regions", "expected a list of regions"),
        (b'{"regions": [[0, 0]]}', "regions[0]", "region is not a JSON object"),
        (b'{"regions": [}', "document", "not valid JSON"),
    ],
)
def test_invalid_documents(data, item, reason):
    with pytest.raises(AnnotationError) as caught:
        parse(data)
    assert caught.value.item == item
    assert reason in caught.value.reason
