"""The region parameter (IIIF Image API 3.0, section 4.1) as data: parse, resolve, clip, canonicalise."""

from dataclasses import dataclass

import pytest

from iiif_server.errors import IIIFError
from iiif_server.region import (
    Box,
    FullRegion,
    PercentRegion,
    PixelRegion,
    Region,
    ResolvedRegion,
    SquareRegion,
    parse_region,
)

# (region text, image width, image height, expected box as x,y,w,h, expected canonical region)
RESOLVED = [
    # The spec's own examples use a 300x200 image.
    ("full", 300, 200, (0, 0, 300, 200), "full"),
    ("square", 300, 200, (50, 0, 200, 200), "50,0,200,200"),
    ("125,15,120,140", 300, 200, (125, 15, 120, 140), "125,15,120,140"),
    ("pct:41.6,7.5,40,70", 300, 200, (125, 15, 120, 140), "125,15,120,140"),
    ("125,15,200,200", 300, 200, (125, 15, 175, 185), "125,15,175,185"),
    ("pct:41.6,7.5,66.6,100", 300, 200, (125, 15, 175, 185), "125,15,175,185"),
    # full on other shapes
    ("full", 200, 300, (0, 0, 200, 300), "full"),
    ("full", 1, 1, (0, 0, 1, 1), "full"),
    ("full", 1001, 333, (0, 0, 1001, 333), "full"),
    # square: the largest centred square; on a square image it is the full image
    ("square", 200, 300, (0, 50, 200, 200), "0,50,200,200"),
    ("square", 256, 256, (0, 0, 256, 256), "full"),
    ("square", 1001, 333, (334, 0, 333, 333), "334,0,333,333"),
    ("square", 333, 1000, (0, 333, 333, 333), "0,333,333,333"),
    ("square", 6000, 8000, (0, 1000, 6000, 6000), "0,1000,6000,6000"),
    ("square", 2, 1, (0, 0, 1, 1), "0,0,1,1"),
    # x,y,w,h: whole image is canonical `full`, overhang is clipped at the edges
    ("0,0,300,200", 300, 200, (0, 0, 300, 200), "full"),
    ("0,0,9999,9999", 300, 200, (0, 0, 300, 200), "full"),
    ("0,0,1,1", 300, 200, (0, 0, 1, 1), "0,0,1,1"),
    ("299,199,1,1", 300, 200, (299, 199, 1, 1), "299,199,1,1"),
    ("299,199,5,5", 300, 200, (299, 199, 1, 1), "299,199,1,1"),
    ("0,100,300,200", 300, 200, (0, 100, 300, 100), "0,100,300,100"),
    ("100,0,300,200", 200, 300, (100, 0, 100, 200), "100,0,100,200"),
    ("007,0,10,10", 300, 200, (7, 0, 10, 10), "7,0,10,10"),
    ("4096,7680,1904,320", 6000, 8000, (4096, 7680, 1904, 320), "4096,7680,1904,320"),
    ("4096,7680,4096,4096", 6000, 8000, (4096, 7680, 1904, 320), "4096,7680,1904,320"),
    ("0,0,1001,333", 1001, 333, (0, 0, 1001, 333), "full"),
    # pct:x,y,w,h: edges are rounded half up, then clipped
    ("pct:0,0,100,100", 300, 200, (0, 0, 300, 200), "full"),
    ("pct:0,0,100.5,120", 300, 200, (0, 0, 300, 200), "full"),
    ("pct:50,50,50,50", 300, 200, (150, 100, 150, 100), "150,100,150,100"),
    ("pct:99,99,50,50", 300, 200, (297, 198, 3, 2), "297,198,3,2"),
    ("pct:.5,0,10,10", 1000, 1000, (5, 0, 100, 100), "5,0,100,100"),
    ("pct:25,25,50,50", 1001, 333, (250, 83, 501, 167), "250,83,501,167"),
    # 50% of 333 is 166.5: the left edge rounds up to 167 (Python's round() would give 166)
    ("pct:50,0,50,100", 333, 100, (167, 0, 166, 100), "167,0,166,100"),
    # a tiny percentage still yields one pixel
    ("pct:0,0,0.01,0.01", 300, 200, (0, 0, 1, 1), "0,0,1,1"),
    ("pct:0,0,50,100", 200, 300, (0, 0, 100, 300), "0,0,100,300"),
]


@pytest.mark.parametrize(("text", "width", "height", "box", "canonical"), RESOLVED)
def test_region_resolves(
    text: str, width: int, height: int, box: tuple[int, int, int, int], canonical: str
) -> None:
    """Each region form resolves to the exact pixel box and canonical form."""
    resolved = parse_region(text).resolve(width, height)
    assert resolved.box == Box(*box)
    assert resolved.canonical == canonical
    assert resolved.mask is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("full", FullRegion()),
        ("square", SquareRegion()),
        ("0,0,1,1", PixelRegion(0, 0, 1, 1)),
        ("125,15,120,140", PixelRegion(125, 15, 120, 140)),
        ("pct:41.6,7.5,40,70", PercentRegion(41.6, 7.5, 40.0, 70.0)),
        ("pct:0.5,.5,5.,100", PercentRegion(0.5, 0.5, 5.0, 100.0)),
    ],
)
def test_region_parses_to_variant(text: str, expected: Region) -> None:
    """The parser returns the frozen variant with the numbers as written."""
    assert parse_region(text) == expected


PARSE_ERRORS = [
    # garbage and wrong keywords
    "",
    "Full",
    "FULL",
    " full",
    "full ",
    "squares",
    "max",
    "abc",
    "x,y,w,h",
    "poly:1,2,3,4,5,6",
    # wrong count
    "1,2,3",
    "1,2,3,4,5",
    "1,2,3,",
    ",1,2,3",
    "1,,2,3",
    "pct",
    "pct:",
    "pct:1,2,3",
    "pct:1,2,3,4,5",
    # signs, decimals in pixels, exponents, hex, spaces
    "-1,0,10,10",
    "0,-1,10,10",
    "0,0,-10,10",
    "+1,0,10,10",
    "0,+1,10,10",
    "1.5,0,10,10",
    "0,0,10.0,10",
    "1e2,0,10,10",
    "0x10,0,10,10",
    "1 ,0,10,10",
    "1,0,10,10 ",
    # non-ASCII digits are not decimal digits in a URL
    "\u0661,\u0662,\u0663,\u0664",
    "1,2,3,\uff14",
    # bad percentages
    "pct:-1,0,10,10",
    "pct:+1,0,10,10",
    "pct:0,0,-10,10",
    "pct:1e1,0,10,10",
    "pct:nan,0,10,10",
    "pct:NaN,0,10,10",
    "pct:inf,0,10,10",
    "pct:0,0,10,Infinity",
    "pct:1.2.3,0,10,10",
    "pct:.,0,10,10",
    "pct:\uff11,2,3,4",
    "pct:1,2,3,4%",
    "PCT:1,2,3,4",
]


@pytest.mark.parametrize("text", PARSE_ERRORS)
def test_region_parse_errors(text: str) -> None:
    """Malformed regions are refused at parse time with a 400 on `region`."""
    with pytest.raises(IIIFError) as caught:
        parse_region(text)
    assert caught.value.status == 400
    assert caught.value.parameter == "region"


RESOLVE_ERRORS = [
    # zero width or height
    ("0,0,0,10", 300, 200),
    ("0,0,10,0", 300, 200),
    ("0,0,0,0", 300, 200),
    ("pct:0,0,0,10", 300, 200),
    ("pct:0,0,10,0", 300, 200),
    # starting outside the image
    ("300,0,10,10", 300, 200),
    ("0,200,10,10", 300, 200),
    ("500,500,10,10", 300, 200),
    ("200,0,10,10", 200, 300),
    ("1,0,1,1", 1, 1),
    ("pct:100,0,10,10", 300, 200),
    ("pct:0,100,10,10", 300, 200),
    ("pct:150,150,10,10", 300, 200),
]


@pytest.mark.parametrize(("text", "width", "height"), RESOLVE_ERRORS)
def test_region_resolve_errors(text: str, width: int, height: int) -> None:
    """Empty regions and regions entirely outside the image are a 400 on `region`."""
    region = parse_region(text)
    with pytest.raises(IIIFError) as caught:
        region.resolve(width, height)
    assert caught.value.status == 400
    assert caught.value.parameter == "region"
    assert str(caught.value).startswith("region: ")


@dataclass(frozen=True)
class FakePolygon:
    """A stand-in for an extension's region variant."""

    text: str

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        return ResolvedRegion(Box(1, 2, 3, 4), "poly:" + self.text)


def test_extra_syntax_is_dispatched() -> None:
    """A prefix registered in `syntaxes` gets the rest of the segment."""
    seen: list[str] = []

    def parse_poly(rest: str) -> Region:
        seen.append(rest)
        return FakePolygon(rest)

    region = parse_region("poly:10,10;50,10;30,40", {"poly:": parse_poly})
    assert region == FakePolygon("10,10;50,10;30,40")
    assert seen == ["10,10;50,10;30,40"]
    assert region.resolve(300, 200) == ResolvedRegion(Box(1, 2, 3, 4), "poly:10,10;50,10;30,40")


def test_extra_syntax_leaves_standard_forms_alone() -> None:
    """Registering a syntax does not change how the spec's own forms parse."""

    def refuse(rest: str) -> Region:
        raise AssertionError(f"extension parser called with {rest!r}")

    syntaxes = {"poly:": refuse}
    assert parse_region("full", syntaxes) == FullRegion()
    assert parse_region("square", syntaxes) == SquareRegion()
    assert parse_region("1,2,3,4", syntaxes) == PixelRegion(1, 2, 3, 4)
    assert parse_region("pct:1,2,3,4", syntaxes) == PercentRegion(1, 2, 3, 4)


def test_extra_syntax_errors_propagate() -> None:
    """An extension parser's IIIFError reaches the caller unchanged."""

    error = IIIFError(400, "a polygon needs three points", "region")

    def bad(rest: str) -> Region:
        raise error

    with pytest.raises(IIIFError) as caught:
        parse_region("poly:1,2", {"poly:": bad})
    assert caught.value is error
