"""Quality and format (IIIF Image API 3.0, sections 4.4 and 4.5), and the whole request parser."""

import itertools

import pytest

from iiif_server.errors import IIIFError
from iiif_server.image_request import (
    FORMATS,
    QUALITIES,
    ImageRequest,
    parse_image_request,
    parse_quality_format,
)
from iiif_server.region import FullRegion, PixelRegion, Region
from iiif_server.rotation import Rotation
from iiif_server.size import Size


def test_offered_qualities_and_formats() -> None:
    """Level 2 qualities plus bitonal; jpg and png plus webp, tif and gif."""
    assert QUALITIES == ("default", "color", "gray", "bitonal")
    assert FORMATS == ("jpg", "png", "webp", "tif", "gif")


@pytest.mark.parametrize(("quality", "fmt"), list(itertools.product(QUALITIES, FORMATS)))
def test_every_quality_and_format(quality: str, fmt: str) -> None:
    """Every offered quality combines with every offered format."""
    assert parse_quality_format(f"{quality}.{fmt}") == (quality, fmt)


# (segment, HTTP status, parameter at fault)
ERRORS = [
    # no format suffix
    ("default", 400, "format"),
    ("defaultjpg", 400, "format"),
    ("", 400, "format"),
    # unknown qualities (`native` is Image API 1.x, `grey` a misspelling, names are case-sensitive)
    ("native.jpg", 400, "quality"),
    ("grey.jpg", 400, "quality"),
    ("colour.png", 400, "quality"),
    ("Default.jpg", 400, "quality"),
    (".jpg", 400, "quality"),
    ("default.jpg.jpg", 400, "quality"),
    # unknown formats
    ("default.jpeg", 400, "format"),
    ("default.JPG", 400, "format"),
    ("default.tiff", 400, "format"),
    ("default.bmp", 400, "format"),
    ("default.svg", 400, "format"),
    ("default.", 400, "format"),
    ("gray.json", 400, "format"),
    # formats the spec names but this server does not write
    ("default.jp2", 501, "format"),
    ("color.jp2", 501, "format"),
    ("gray.pdf", 501, "format"),
    ("bitonal.pdf", 501, "format"),
    # the quality is checked before the format
    ("native.jp2", 400, "quality"),
    ("native.bmp", 400, "quality"),
]


@pytest.mark.parametrize(("text", "status", "parameter"), ERRORS)
def test_quality_format_errors(text: str, status: int, parameter: str) -> None:
    """Unknown values are a 400, known but unoffered formats a 501, each naming its parameter."""
    with pytest.raises(IIIFError) as caught:
        parse_quality_format(text)
    assert caught.value.status == status
    assert caught.value.parameter == parameter


def test_whole_request_parses() -> None:
    """The spec's order-of-implementation example parses into one frozen value."""
    request = parse_image_request("abcd1234", "125,15,120,140", "90,", "!345", "gray.jpg")
    assert request == ImageRequest(
        "abcd1234", PixelRegion(125, 15, 120, 140), Size("w", width=90), Rotation(345.0, True), "gray", "jpg"
    )


@pytest.mark.parametrize(
    ("segments", "parameter"),
    [
        (("nope", "max", "0", "default.jpg"), "region"),
        (("full", "full", "0", "default.jpg"), "size"),
        (("full", "max", "-90", "default.jpg"), "rotation"),
        (("full", "max", "0", "native.jpg"), "quality"),
        (("full", "max", "0", "default.bmp"), "format"),
    ],
)
def test_whole_request_names_the_bad_parameter(segments: tuple[str, str, str, str], parameter: str) -> None:
    """Each malformed segment is a 400 naming that segment."""
    with pytest.raises(IIIFError) as caught:
        parse_image_request("id", *segments)
    assert caught.value.status == 400
    assert caught.value.parameter == parameter


def test_whole_request_passes_syntaxes_on() -> None:
    """Extra region syntaxes reach the region parser."""

    def parse_poly(rest: str) -> Region:
        assert rest == "1,2;3,4;5,6"
        return FullRegion()

    request = parse_image_request("id", "poly:1,2;3,4;5,6", "max", "0", "default.png", {"poly:": parse_poly})
    assert request.region == FullRegion()
    assert request.format == "png"
