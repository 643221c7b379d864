"""The size parameter (IIIF Image API 3.0, section 4.2) as data: parse, resolve, limits, canonical form.

Rounding rule: a derived pixel value (the free side of `w,` / `,h`, both sides of `pct:n`, the
shorter side of `!w,h`) is rounded half up, so 166.5 becomes 167 where Python's round() gives 166.
`max` and `^max` under server limits are floored instead, so they never exceed a limit.
"""

import pytest

from iiif_server.errors import IIIFError
from iiif_server.settings import Limits
from iiif_server.size import Size, canonical_size, parse_size, resolve_size

NO_LIMITS = Limits(max_width=None, max_height=None, max_area=None)

PARSED = [
    ("max", Size("max")),
    ("^max", Size("max", upscale=True)),
    ("150,", Size("w", width=150)),
    ("^360,", Size("w", upscale=True, width=360)),
    (",150", Size("h", height=150)),
    ("^,240", Size("h", upscale=True, height=240)),
    ("pct:50", Size("pct", percent=50.0)),
    ("pct:12.5", Size("pct", percent=12.5)),
    ("pct:.5", Size("pct", percent=0.5)),
    ("^pct:120", Size("pct", upscale=True, percent=120.0)),
    ("225,100", Size("wh", width=225, height=100)),
    ("^360,360", Size("wh", upscale=True, width=360, height=360)),
    ("!225,100", Size("confined", width=225, height=100)),
    ("^!360,360", Size("confined", upscale=True, width=360, height=360)),
    ("0150,", Size("w", width=150)),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_size_parses(text: str, expected: Size) -> None:
    """Every size form and its `^` variant parses to the frozen value."""
    assert parse_size(text) == expected


PARSE_ERRORS = [
    "",
    "full",
    "Max",
    "max,",
    "^",
    "^^max",
    "^ max",
    "!^10,10",
    "!!10,10",
    ",",
    "!,",
    "!10,",
    "!,10",
    "10",
    "10,10,10",
    "-10,",
    ",-10",
    "+10,",
    "1.5,",
    ",1.5",
    "1e2,",
    "10 ,",
    "10,x",
    "\u0665\u0660\u0660,",
    "\uff11\uff10,",
    "pct:",
    "pct:-5",
    "pct:+5",
    "pct:1e2",
    "pct:nan",
    "pct:inf",
    "pct:50%",
    "pct:50,",
    "pct:\uff15\uff10",
    "PCT:50",
]


@pytest.mark.parametrize("text", PARSE_ERRORS)
def test_size_parse_errors(text: str) -> None:
    """Malformed sizes are a 400 on `size`."""
    with pytest.raises(IIIFError) as caught:
        parse_size(text)
    assert caught.value.status == 400
    assert caught.value.parameter == "size"


# (size text, region width, region height, expected output width, height); no server limits
RESOLVED = [
    # The spec's examples, on its 300x200 image.
    ("max", 300, 200, 300, 200),
    ("150,", 300, 200, 150, 100),
    ("^360,", 300, 200, 360, 240),
    (",150", 300, 200, 225, 150),
    ("^,240", 300, 200, 360, 240),
    ("pct:50", 300, 200, 150, 100),
    ("^pct:120", 300, 200, 360, 240),
    ("225,100", 300, 200, 225, 100),
    ("^360,360", 300, 200, 360, 360),
    ("!225,100", 300, 200, 150, 100),
    ("^!360,360", 300, 200, 360, 240),
    # `^` allows upscaling but does not require it; the exact region size is fine without it
    ("^max", 300, 200, 300, 200),
    ("^150,", 300, 200, 150, 100),
    ("^pct:50", 300, 200, 150, 100),
    ("^!225,100", 300, 200, 150, 100),
    ("300,", 300, 200, 300, 200),
    (",200", 300, 200, 300, 200),
    ("pct:100", 300, 200, 300, 200),
    ("300,200", 300, 200, 300, 200),
    ("!300,200", 300, 200, 300, 200),
    ("!300,300", 300, 200, 300, 200),
    ("!600,200", 300, 200, 300, 200),
    ("^301,", 300, 200, 301, 201),
    ("^1,1000", 300, 200, 1, 1000),
    # portrait
    ("max", 200, 300, 200, 300),
    ("100,", 200, 300, 100, 150),
    (",100", 200, 300, 67, 100),
    ("pct:25", 200, 300, 50, 75),
    ("!100,100", 200, 300, 67, 100),
    ("^!400,400", 200, 300, 267, 400),
    ("50,60", 200, 300, 50, 60),
    # square
    ("128,", 256, 256, 128, 128),
    ("!100,50", 256, 256, 50, 50),
    ("^512,", 256, 256, 512, 512),
    ("^!512,1024", 256, 256, 512, 512),
    # odd sizes
    ("500,", 1001, 333, 500, 166),
    (",100", 1001, 333, 301, 100),
    ("pct:50", 1001, 333, 501, 167),
    ("!100,100", 1001, 333, 100, 33),
    ("2,", 1001, 333, 2, 1),
    # tile-sized regions of a 6000x8000 image
    ("119,", 1904, 320, 119, 20),
    ("238,", 1904, 3904, 238, 488),
    ("512,", 4096, 4096, 512, 512),
    ("!512,512", 6000, 8000, 384, 512),
]


@pytest.mark.parametrize(("text", "width", "height", "out_w", "out_h"), RESOLVED)
def test_size_resolves(text: str, width: int, height: int, out_w: int, out_h: int) -> None:
    """Each size form yields the exact output dimensions."""
    assert resolve_size(parse_size(text), width, height, NO_LIMITS) == (out_w, out_h)


# Halves round up: every case here would come out differently with Python's round() (half to even).
ROUNDING = [
    ("pct:50", 333, 333, 167, 167),  # 166.5 -> 167
    ("500,", 1000, 333, 500, 167),  # 166.5 -> 167
    (",500", 333, 1000, 167, 500),  # 166.5 -> 167
    ("2,", 4, 1, 2, 1),  # 0.5 -> 1
    (",2", 1, 4, 1, 2),  # 0.5 -> 1
    ("pct:50", 5, 5, 3, 3),  # 2.5 -> 3
    ("!2,100", 4, 5, 2, 3),  # 2.5 -> 3
]


@pytest.mark.parametrize(("text", "width", "height", "out_w", "out_h"), ROUNDING)
def test_rounding_halves_up(text: str, width: int, height: int, out_w: int, out_h: int) -> None:
    """The one rounding rule for derived sides: halves round up."""
    assert resolve_size(parse_size(text), width, height, NO_LIMITS) == (out_w, out_h)


@pytest.mark.parametrize(
    ("text", "width", "height", "out_w", "out_h"),
    [
        ("499,", 1000, 333, 499, 166),  # 166.167 -> 166
        ("501,", 1000, 333, 501, 167),  # 166.833 -> 167
        ("500,", 1000, 3, 500, 2),  # 1.5 -> 2
        ("pct:10", 14, 14, 1, 1),  # 1.4 -> 1
    ],
)
def test_rounding_elsewhere_is_to_nearest(text: str, width: int, height: int, out_w: int, out_h: int) -> None:
    """Away from halves, derived sides round to the nearest pixel."""
    assert resolve_size(parse_size(text), width, height, NO_LIMITS) == (out_w, out_h)


UPSCALE_WITHOUT_CARET = [
    ("301,", 300, 200),
    (",201", 300, 200),
    ("pct:101", 300, 200),
    ("pct:100.5", 300, 200),
    ("301,200", 300, 200),
    ("300,201", 300, 200),
    ("1000,1000", 300, 200),
    ("1,201", 300, 200),
    ("257,", 256, 256),
    (",301", 200, 300),
    # project decision (matches the official validator): a box wholly larger than the region is refused
    ("!2000,3000", 1000, 1000),
    ("!600,400", 300, 200),
]


@pytest.mark.parametrize(("text", "width", "height"), UPSCALE_WITHOUT_CARET)
def test_upscale_needs_caret(text: str, width: int, height: int) -> None:
    """A size larger than the region without `^` is a 400 on `size`."""
    with pytest.raises(IIIFError) as caught:
        resolve_size(parse_size(text), width, height, NO_LIMITS)
    assert caught.value.status == 400
    assert caught.value.parameter == "size"
    assert resolve_size(parse_size("^" + text), width, height, NO_LIMITS)


ZERO_SIZES = [
    ("0,", 300, 200),
    (",0", 300, 200),
    ("0,0", 300, 200),
    ("0,10", 300, 200),
    ("10,0", 300, 200),
    ("!0,10", 300, 200),
    ("!10,0", 300, 200),
    ("^!0,0", 300, 200),
    ("pct:0", 300, 200),
    ("^pct:0", 300, 200),
    ("^0,", 300, 200),
    # derived sides that round to zero pixels
    ("100,", 1000, 1),
    (",100", 1, 1000),
    ("pct:0.01", 300, 200),
    ("1,", 3, 1),
]


@pytest.mark.parametrize(("text", "width", "height"), ZERO_SIZES)
def test_zero_sizes_are_refused(text: str, width: int, height: int) -> None:
    """An output with no pixels is a 400 on `size`."""
    with pytest.raises(IIIFError) as caught:
        resolve_size(parse_size(text), width, height, NO_LIMITS)
    assert caught.value.status == 400
    assert caught.value.parameter == "size"


# (size text, region width, height, limits, expected output width, height)
WITHIN_LIMITS = [
    # spec example: `max` with maxWidth 200 on the 300x200 image
    ("max", 300, 200, Limits(200, None, None), 200, 133),
    # spec example: `^max` with maxWidth 360 on the 300x200 image
    ("^max", 300, 200, Limits(360, None, None), 360, 240),
    # `max` lands exactly on the limit (161 * (100 / 161) is 99.999... in floating point)
    ("max", 161, 100, Limits(100, None, None), 100, 62),
    ("max", 289, 289, Limits(200, None, None), 200, 200),
    ("max", 6000, 8000, Limits(1000, 1000, None), 750, 1000),
    ("max", 8000, 6000, Limits(None, 1000, None), 1333, 1000),
    ("max", 6000, 8000, Limits(None, None, 4_000_000), 1732, 2309),
    ("max", 6000, 4000, Limits(3000, 2000, 4_000_000), 2449, 1632),
    ("max", 300, 200, Limits(3000, 2000, 4_000_000), 300, 200),
    ("max", 300, 200, Limits(), 300, 200),
    ("^max", 300, 200, Limits(3000, 2000, 4_000_000), 2449, 1632),
    ("^max", 100, 100, Limits(1000, 500, None), 500, 500),
    ("^max", 100, 50, Limits(1000, 1000, None), 1000, 500),
    ("^max", 6000, 8000, Limits(1000, 1000, None), 750, 1000),
    ("^max", 300, 200, NO_LIMITS, 300, 200),
    # explicit sizes up to and including the limit
    ("200,", 300, 200, Limits(200, None, None), 200, 133),
    (",150", 300, 200, Limits(None, 150, None), 225, 150),
    ("pct:50", 300, 200, Limits(None, None, 15000), 150, 100),
    ("^360,240", 300, 200, Limits(360, 240, 86400), 360, 240),
    # `!w,h` is "as large as possible but not larger than ... server-imposed limits"
    ("!150,150", 300, 200, Limits(200, None, None), 150, 100),
    ("!250,250", 300, 200, Limits(200, None, None), 200, 133),
    ("!300,200", 300, 200, Limits(None, None, 10000), 122, 81),
    ("^!1000,1000", 300, 200, Limits(360, None, None), 360, 240),
    ("^!1000,1000", 300, 200, Limits(None, 300, None), 450, 300),
]


@pytest.mark.parametrize(("text", "width", "height", "limits", "out_w", "out_h"), WITHIN_LIMITS)
def test_limits_fit(text: str, width: int, height: int, limits: Limits, out_w: int, out_h: int) -> None:
    """`max` shrinks to the limits, `^max` grows to them, `!w,h` is confined by them."""
    assert resolve_size(parse_size(text), width, height, limits) == (out_w, out_h)
    if limits.max_width:
        assert out_w <= limits.max_width
    if limits.max_height:
        assert out_h <= limits.max_height
    if limits.max_area:
        assert out_w * out_h <= limits.max_area


BEYOND_LIMITS = [
    ("250,", 300, 200, Limits(200, None, None)),
    ("201,10", 300, 200, Limits(200, None, None)),
    (",180", 300, 200, Limits(None, 150, None)),
    ("pct:50", 300, 200, Limits(None, None, 14999)),
    ("^400,100", 300, 200, Limits(200, 200, None)),
    ("^,250", 300, 200, Limits(200, 200, None)),
    ("^2000,", 1000, 1000, Limits(1000, 1000, None)),
    ("^pct:200", 300, 200, Limits(None, None, 60000)),
    ("13000,", 20000, 10000, Limits()),
]


@pytest.mark.parametrize(("text", "width", "height", "limits"), BEYOND_LIMITS)
def test_explicit_sizes_beyond_limits(text: str, width: int, height: int, limits: Limits) -> None:
    """An explicit size over maxWidth, maxHeight or maxArea is a 413 on `size`."""
    with pytest.raises(IIIFError) as caught:
        resolve_size(parse_size(text), width, height, limits)
    assert caught.value.status == 413
    assert caught.value.parameter == "size"


@pytest.mark.parametrize(
    ("out_w", "out_h", "width", "height", "expected"),
    [
        (300, 200, 300, 200, "max"),
        (1, 1, 1, 1, "max"),
        (150, 100, 300, 200, "150,100"),
        (300, 100, 300, 200, "300,100"),
        (200, 133, 300, 200, "200,133"),
        (360, 240, 300, 200, "^360,240"),
        (301, 100, 300, 200, "^301,100"),
        (100, 201, 300, 200, "^100,201"),
    ],
)
def test_canonical_size(out_w: int, out_h: int, width: int, height: int, expected: str) -> None:
    """`max` for the region's own size, else `w,h`, with `^` when either side is upscaled."""
    assert canonical_size(out_w, out_h, width, height) == expected
