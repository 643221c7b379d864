"""Whole requests through `plan()`: output size and canonical path, including real viewer tile URLs."""

import math
from dataclasses import dataclass

import pytest

from iiif_server.errors import IIIFError
from iiif_server.image_request import parse_image_request
from iiif_server.plan import plan
from iiif_server.region import Box, ResolvedRegion
from iiif_server.rotation import Rotation
from iiif_server.settings import Limits

NO_LIMITS = Limits(max_width=None, max_height=None, max_area=None)


def plan_url(
    path: str, width: int, height: int, limits: Limits = NO_LIMITS, identifier: str = "abcd1234"
) -> tuple[tuple[int, int], str]:
    """Plan `region/size/rotation/quality.format` on an image; return output size and canonical path."""
    region, size, rotation, quality_format = path.split("/")
    request = parse_image_request(identifier, region, size, rotation, quality_format)
    result = plan(request, width, height, limits)
    return (result.width, result.height), result.canonical_path


# (request path, expected output size, expected canonical path), all on the spec's 300x200 image
SPEC_EXAMPLES = [
    ("full/max/0/default.jpg", (300, 200), "full/max/0/default.jpg"),
    ("square/max/0/default.jpg", (200, 200), "50,0,200,200/max/0/default.jpg"),
    ("125,15,120,140/max/0/default.jpg", (120, 140), "125,15,120,140/max/0/default.jpg"),
    ("pct:41.6,7.5,40,70/max/0/default.jpg", (120, 140), "125,15,120,140/max/0/default.jpg"),
    ("125,15,200,200/max/0/default.jpg", (175, 185), "125,15,175,185/max/0/default.jpg"),
    ("pct:41.6,7.5,66.6,100/max/0/default.jpg", (175, 185), "125,15,175,185/max/0/default.jpg"),
    ("full/150,/0/default.jpg", (150, 100), "full/150,100/0/default.jpg"),
    ("full/^360,/0/default.jpg", (360, 240), "full/^360,240/0/default.jpg"),
    ("full/,150/0/default.jpg", (225, 150), "full/225,150/0/default.jpg"),
    ("full/^,240/0/default.jpg", (360, 240), "full/^360,240/0/default.jpg"),
    ("full/pct:50/0/default.jpg", (150, 100), "full/150,100/0/default.jpg"),
    ("full/^pct:120/0/default.jpg", (360, 240), "full/^360,240/0/default.jpg"),
    ("full/225,100/0/default.jpg", (225, 100), "full/225,100/0/default.jpg"),
    ("full/^360,360/0/default.jpg", (360, 360), "full/^360,360/0/default.jpg"),
    ("full/!225,100/0/default.jpg", (150, 100), "full/150,100/0/default.jpg"),
    ("full/^!360,360/0/default.jpg", (360, 240), "full/^360,240/0/default.jpg"),
    ("full/max/180/default.jpg", (300, 200), "full/max/180/default.jpg"),
    ("full/max/90/default.jpg", (300, 200), "full/max/90/default.jpg"),
    ("full/max/22.5/default.png", (300, 200), "full/max/22.5/default.png"),
    ("full/max/!0/default.jpg", (300, 200), "full/max/!0/default.jpg"),
    ("full/max/!180/default.jpg", (300, 200), "full/max/!180/default.jpg"),
    ("full/max/0/color.jpg", (300, 200), "full/max/0/color.jpg"),
    ("full/max/0/gray.jpg", (300, 200), "full/max/0/gray.jpg"),
    ("full/max/0/bitonal.jpg", (300, 200), "full/max/0/bitonal.jpg"),
    ("full/max/0/default.png", (300, 200), "full/max/0/default.png"),
    ("full/max/0/default.tif", (300, 200), "full/max/0/default.tif"),
    # the order-of-implementation example
    ("125,15,120,140/90,/!345/gray.jpg", (90, 105), "125,15,120,140/90,105/!345/gray.jpg"),
    # equivalent spellings collapse to one canonical path
    ("0,0,300,200/300,200/0/default.jpg", (300, 200), "full/max/0/default.jpg"),
    ("pct:0,0,100,100/pct:100/0.0/default.jpg", (300, 200), "full/max/0/default.jpg"),
    ("full/^max/0/default.jpg", (300, 200), "full/max/0/default.jpg"),
    ("full/!300,300/090.0/default.webp", (300, 200), "full/max/90/default.webp"),
    ("0,0,9999,9999/^300,/.5/default.gif", (300, 200), "full/max/0.5/default.gif"),
]


@pytest.mark.parametrize(("path", "size", "canonical"), SPEC_EXAMPLES)
def test_spec_examples(path: str, size: tuple[int, int], canonical: str) -> None:
    """The spec's example requests give their documented sizes and canonical paths."""
    assert plan_url(path, 300, 200) == (size, "abcd1234/" + canonical)


@pytest.mark.parametrize(
    ("path", "limits", "size", "canonical"),
    [
        ("full/max/0/default.jpg", Limits(200, None, None), (200, 133), "full/200,133/0/default.jpg"),
        ("full/^max/0/default.jpg", Limits(360, None, None), (360, 240), "full/^360,240/0/default.jpg"),
        ("full/max/0/default.jpg", Limits(), (300, 200), "full/max/0/default.jpg"),
        ("full/!250,250/0/default.jpg", Limits(200, None, None), (200, 133), "full/200,133/0/default.jpg"),
    ],
)
def test_canonical_under_limits(path: str, limits: Limits, size: tuple[int, int], canonical: str) -> None:
    """Under limits the canonical size names the pixels actually served."""
    assert plan_url(path, 300, 200, limits) == (size, "abcd1234/" + canonical)


# OpenSeadragon's IIIF 3 tile URLs for a 6000x8000 image with 512 tiles, scale factors 1..16
# (region: tile * scale factor, clipped; size: ceil of the region over the scale factor, as `w,h`),
# and the `w,` form that OpenSeadragon sends for Image API 2 and Leaflet-IIIF still sends.
TILES = [
    ("0,0,512,512/512,512", (512, 512), "0,0,512,512/max"),
    ("5632,7680,368,320/368,320", (368, 320), "5632,7680,368,320/max"),
    ("512,1024,512,512/512,", (512, 512), "512,1024,512,512/max"),
    ("0,0,1024,1024/512,512", (512, 512), "0,0,1024,1024/512,512"),
    ("5120,7168,880,832/440,416", (440, 416), "5120,7168,880,832/440,416"),
    ("5120,7168,880,832/440,", (440, 416), "5120,7168,880,832/440,416"),
    ("4096,6144,1904,1856/476,464", (476, 464), "4096,6144,1904,1856/476,464"),
    ("4096,6144,1904,1856/476,", (476, 464), "4096,6144,1904,1856/476,464"),
    ("0,0,4096,4096/512,512", (512, 512), "0,0,4096,4096/512,512"),
    ("0,0,4096,4096/512,", (512, 512), "0,0,4096,4096/512,512"),
    ("4096,4096,1904,3904/238,488", (238, 488), "4096,4096,1904,3904/238,488"),
    ("4096,4096,1904,3904/238,", (238, 488), "4096,4096,1904,3904/238,488"),
    ("4096,7680,1904,320/119,", (119, 20), "4096,7680,1904,320/119,20"),
    ("full/375,500", (375, 500), "full/375,500"),
    ("full/375,", (375, 500), "full/375,500"),
]


@pytest.mark.parametrize(("tile", "size", "canonical"), TILES)
def test_openseadragon_tiles(tile: str, size: tuple[int, int], canonical: str) -> None:
    """Tile requests are served at exactly the asked size and canonicalise as expected."""
    assert plan_url(tile + "/0/default.jpg", 6000, 8000, Limits()) == (
        size,
        "abcd1234/" + canonical + "/0/default.jpg",
    )


def openseadragon_tiles(width: int, height: int, tile: int, scale_factors: list[int]) -> list[str]:
    """Every tile URL OpenSeadragon's IIIF 3 tile source asks for (its `getTileUrl`, in Python)."""
    urls = []
    for factor in scale_factors:
        level_w, level_h = math.ceil(width / factor), math.ceil(height / factor)
        if level_w < tile and level_h < tile:
            size = "max" if (level_w, level_h) == (width, height) else f"{level_w},{level_h}"
            urls.append(f"full/{size}")
            continue
        span = tile * factor
        for y in range(0, height, span):
            for x in range(0, width, span):
                w, h = min(span, width - x), min(span, height - y)
                region = "full" if (x, y, w, h) == (0, 0, width, height) else f"{x},{y},{w},{h}"
                size_w, size_h = math.ceil(w / factor), math.ceil(h / factor)
                size = "max" if (size_w, size_h) == (width, height) else f"{size_w},{size_h}"
                urls.append(f"{region}/{size}")
    return urls


@pytest.mark.parametrize(("width", "height"), [(6000, 8000), (6001, 8003), (513, 4097), (100, 100)])
def test_every_openseadragon_tile_is_served_as_asked(width: int, height: int) -> None:
    """Each tile of each level plans at exactly the size the viewer asked for, within the limits."""
    factors = [1, 2, 4, 8, 16, 32]
    urls = openseadragon_tiles(width, height, 512, factors)
    assert len(urls) >= len(factors)
    for url in urls:
        region, size = url.split("/")
        (out_w, out_h), canonical = plan_url(url + "/0/default.jpg", width, height, Limits())
        if size != "max":
            assert f"{out_w},{out_h}" == size
        assert canonical.split("/")[1] == region
        assert out_w <= 512 and out_h <= 512


def test_openseadragon_tile_count() -> None:
    """The 6000x8000 pyramid has 192 + 48 + 12 + 4 tiles and one whole-image level."""
    urls = openseadragon_tiles(6000, 8000, 512, [1, 2, 4, 8, 16])
    assert len(urls) == 192 + 48 + 12 + 4 + 1
    assert urls[-1] == "full/375,500"


@pytest.mark.parametrize(
    ("identifier", "encoded"),
    [
        ("abcd1234", "abcd1234"),
        ("folder/page 1.tif", "folder%2Fpage%201.tif"),
        ("a/b/c.tif", "a%2Fb%2Fc.tif"),
        ("ark:/12025/654xz321", "ark%3A%2F12025%2F654xz321"),
        ("100%.png", "100%25.png"),
        ("a?b#c", "a%3Fb%23c"),
        ("é.tif", "%C3%A9.tif"),
        ("x~y_z-1.2", "x~y_z-1.2"),
    ],
)
def test_identifier_is_percent_encoded(identifier: str, encoded: str) -> None:
    """Identifiers are percent-encoded in the canonical path, `/` included (as `%2F`)."""
    _, canonical = plan_url("full/max/0/default.jpg", 10, 10, identifier=identifier)
    assert canonical == f"{encoded}/full/max/0/default.jpg"


def test_plan_fields() -> None:
    """The plan carries the box to cut, the output size and the untouched rotation, quality, format."""
    request = parse_image_request("id", "125,15,200,200", "^350,", "!22.5", "gray.png")
    result = plan(request, 300, 200, Limits())
    assert result.region == ResolvedRegion(Box(125, 15, 175, 185), "125,15,175,185")
    assert (result.width, result.height) == (350, 370)
    assert result.rotation == Rotation(22.5, True)
    assert (result.quality, result.format) == ("gray", "png")
    assert result.canonical_path == "id/125,15,175,185/^350,370/!22.5/gray.png"


@dataclass(frozen=True)
class FakePolygon:
    """An extension region whose canonical form keeps its `:`, `,` and `;`."""

    def resolve(self, width: int, height: int) -> ResolvedRegion:
        return ResolvedRegion(Box(10, 10, 40, 30), "poly:10,10;50,10;30,40")


def test_extension_region_canonical_is_not_escaped() -> None:
    """An extension's canonical region text goes into the path with its separators intact."""
    request = parse_image_request(
        "id", "poly:x", "max", "0", "default.png", {"poly:": lambda _: FakePolygon()}
    )
    result = plan(request, 300, 200, Limits())
    assert result.canonical_path == "id/poly:10,10;50,10;30,40/max/0/default.png"
    assert (result.width, result.height) == (40, 30)


@pytest.mark.parametrize(
    ("path", "limits", "status", "parameter"),
    [
        ("300,0,10,10/max/0/default.jpg", NO_LIMITS, 400, "region"),
        ("0,0,0,10/max/0/default.jpg", NO_LIMITS, 400, "region"),
        ("full/301,/0/default.jpg", NO_LIMITS, 400, "size"),
        ("125,15,200,200/176,/0/default.jpg", NO_LIMITS, 400, "size"),
        ("full/pct:0/0/default.jpg", NO_LIMITS, 400, "size"),
        ("full/250,/0/default.jpg", Limits(200, None, None), 413, "size"),
        ("full/^pct:200/0/default.jpg", Limits(None, None, 60000), 413, "size"),
    ],
)
def test_plan_errors(path: str, limits: Limits, status: int, parameter: str) -> None:
    """Geometry that cannot be served raises with the status and the parameter at fault."""
    with pytest.raises(IIIFError) as caught:
        plan_url(path, 300, 200, limits)
    assert caught.value.status == status
    assert caught.value.parameter == parameter
