"""The info.json document (IIIF Image API 3.0, section 5), built from a fake source without pixels."""

import json
from pathlib import Path
from typing import Any

import pytest

from iiif_server.info import JSONLD_MEDIA_TYPE, build_info, scale_factors
from iiif_server.settings import Limits
from iiif_server.size import parse_size, resolve_size
from iiif_server.sources import Level, SourceImage

SERVICE_ID = "https://example.org/iiif/3/folder%2Fpage"
NO_LIMITS = Limits(max_width=None, max_height=None, max_area=None)


def fake_source(width: int, height: int) -> SourceImage:
    """A source image that exists only as its description."""
    levels = (Level(width, height), Level(-(-width // 2), -(-height // 2), page=1))
    return SourceImage(Path("fake/page.tif"), "tiffload", levels, 0.0, 0)


def info_for(width: int, height: int, limits: Limits = NO_LIMITS, tile: int = 512) -> dict[str, Any]:
    return build_info(SERVICE_ID, fake_source(width, height), limits, tile)


def test_required_properties() -> None:
    """`@context` comes first; id, type, protocol, profile, width and height are exact."""
    info = info_for(6000, 8000, Limits())
    assert next(iter(info)) == "@context"
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert info["id"] == SERVICE_ID
    assert info["type"] == "ImageService3"
    assert info["protocol"] == "http://iiif.io/api/image"
    assert info["profile"] == "level2"
    assert (info["width"], info["height"]) == (6000, 8000)
    assert JSONLD_MEDIA_TYPE == 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'


def test_whole_document() -> None:
    """The full document for a 6000x8000 image with the default limits and 512 tiles."""
    info = info_for(6000, 8000, Limits())
    assert info == {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": SERVICE_ID,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level2",
        "width": 6000,
        "height": 8000,
        "sizes": [
            {"width": 47, "height": 63},
            {"width": 94, "height": 125},
            {"width": 188, "height": 250},
            {"width": 375, "height": 500},
            {"width": 750, "height": 1000},
            {"width": 1500, "height": 2000},
            {"width": 3000, "height": 4000},
            {"width": 6000, "height": 8000},
        ],
        "tiles": [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8, 16]}],
        "maxWidth": 12000,
        "maxHeight": 12000,
        "maxArea": 64_000_000,
        "extraFormats": ["webp", "tif", "gif"],
        "extraQualities": ["color", "gray", "bitonal"],
        "extraFeatures": [
            "canonicalLinkHeader",
            "mirroring",
            "profileLinkHeader",
            "rotationArbitrary",
            "sizeUpscaling",
        ],
    }
    assert json.loads(json.dumps(info)) == info


def test_sizes_respect_limits() -> None:
    """The spec's example limits on a 6000x4000 image leave out the sizes over maxArea."""
    info = info_for(6000, 4000, Limits(3000, 2000, 4_000_000))
    assert info["sizes"] == [
        {"width": 47, "height": 32},
        {"width": 94, "height": 63},
        {"width": 188, "height": 125},
        {"width": 375, "height": 250},
        {"width": 750, "height": 500},
        {"width": 1500, "height": 1000},
    ]
    assert (info["maxWidth"], info["maxHeight"], info["maxArea"]) == (3000, 2000, 4_000_000)


@pytest.mark.parametrize(
    ("width", "height", "sizes"),
    [
        (1, 1, [(1, 1)]),
        (50, 40, [(50, 40)]),
        (64, 64, [(64, 64)]),
        (65, 10, [(33, 5), (65, 10)]),
        (300, 200, [(38, 25), (75, 50), (150, 100), (300, 200)]),
        (1001, 333, [(63, 21), (126, 42), (251, 84), (501, 167), (1001, 333)]),
    ],
)
def test_sizes_are_ceiled_halvings(width: int, height: int, sizes: list[tuple[int, int]]) -> None:
    """Sizes halve the full image (rounding up) down to 64 pixels on the long side, smallest first."""
    assert info_for(width, height)["sizes"] == [{"width": w, "height": h} for w, h in sizes]


@pytest.mark.parametrize(
    ("width", "height", "limits"),
    [
        (6000, 8000, Limits()),
        (20000, 10000, Limits()),
        (6000, 4000, Limits(3000, 2000, 4_000_000)),
        (1001, 333, Limits(400, 400, None)),
        (8000, 100, Limits(None, None, 100_000)),
    ],
)
def test_sizes_ascend_and_are_servable(width: int, height: int, limits: Limits) -> None:
    """Every listed size ascends, stays within the limits and is served as a plain `w,h` request."""
    sizes = [(s["width"], s["height"]) for s in info_for(width, height, limits)["sizes"]]
    assert sizes
    assert sizes == sorted(sizes)
    assert len(set(sizes)) == len(sizes)
    for w, h in sizes:
        assert resolve_size(parse_size(f"{w},{h}"), width, height, limits) == (w, h)


def test_full_size_left_out_when_over_limits() -> None:
    """A source larger than maxWidth does not advertise its full size."""
    sizes = info_for(20000, 10000, Limits())["sizes"]
    assert sizes[-1] == {"width": 10000, "height": 5000}


@pytest.mark.parametrize(
    ("width", "height", "tile", "factors"),
    [
        (512, 512, 512, [1]),
        (100, 100, 512, [1]),
        (1, 1, 512, [1]),
        (513, 100, 512, [1, 2]),
        (1024, 1024, 512, [1, 2]),
        (1025, 10, 512, [1, 2, 4]),
        (6000, 4000, 512, [1, 2, 4, 8, 16]),
        (6000, 8000, 512, [1, 2, 4, 8, 16]),
        (6000, 8000, 256, [1, 2, 4, 8, 16, 32]),
        (100_000, 10, 512, [1, 2, 4, 8, 16, 32, 64, 128, 256]),
    ],
)
def test_scale_factors_until_one_tile(width: int, height: int, tile: int, factors: list[int]) -> None:
    """Powers of two from 1 until the whole image fits in one tile."""
    assert scale_factors(fake_source(width, height), tile) == factors
    assert info_for(width, height, tile=tile)["tiles"] == [
        {"width": tile, "height": tile, "scaleFactors": factors}
    ]


@pytest.mark.parametrize(
    ("limits", "keys"),
    [
        (NO_LIMITS, {}),
        # The specification: maxHeight defaults to maxWidth.
        (Limits(1000, None, None), {"maxWidth": 1000, "maxHeight": 1000}),
        (Limits(1000, 800, None), {"maxWidth": 1000, "maxHeight": 800}),
        (Limits(None, None, 500_000), {"maxArea": 500_000}),
        (Limits(1000, 800, 500_000), {"maxWidth": 1000, "maxHeight": 800, "maxArea": 500_000}),
    ],
)
def test_limit_keys_only_when_set(limits: Limits, keys: dict[str, int]) -> None:
    """maxWidth, maxHeight and maxArea appear exactly when the limit is set."""
    info = info_for(300, 200, limits)
    assert {k: v for k, v in info.items() if k.startswith("max")} == keys


def test_services_are_appended() -> None:
    """Services handed in appear, in order, under `service`; none means no `service` key."""
    services = [
        {"id": "https://example.org/ocr/page", "type": "Service", "profile": "https://example.org/ocr"},
        {"id": "https://example.org/mask/page", "type": "Service"},
    ]
    info = build_info(SERVICE_ID, fake_source(300, 200), NO_LIMITS, 512, services)
    assert info["service"] == services
    assert list(info)[-1] == "service"
    assert "service" not in build_info(SERVICE_ID, fake_source(300, 200), NO_LIMITS, 512)
    assert "service" not in build_info(SERVICE_ID, fake_source(300, 200), NO_LIMITS, 512, [])
