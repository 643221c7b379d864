"""IIIF Image API 2.1 at `/iiif/2/`: its size syntax and canonical form, its info.json, and the same access
checks, limits, labels and headers as `/iiif/3/` (the pipeline is one)."""

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from extensions.masking import masking_extension
from iiif_server.access import token_digest
from iiif_server.app import create_app
from iiif_server.errors import IIIFError
from iiif_server.image_request_v2 import canonical_size_v2, parse_size_v2
from iiif_server.route_label import TILE
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Limits, Settings
from iiif_server.size import Size

V2 = "/iiif/2/grid.png"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("full", Size("max")),
        ("max", Size("max")),
        ("150,", Size("w", True, width=150)),
        (",150", Size("h", True, height=150)),
        ("pct:200", Size("pct", True, percent=200.0)),
        ("800,600", Size("wh", True, 800, 600)),
        ("!800,600", Size("confined", True, 800, 600)),
    ],
)
def test_sizes_parse_with_upscaling_implied(text: str, expected: Size) -> None:
    assert parse_size_v2(text) == expected


@pytest.mark.parametrize("text", ["^max", "^150,", "^pct:50", "full,", "", "10"])
def test_caret_and_malformed_sizes_are_400(text: str) -> None:
    with pytest.raises(IIIFError) as raised:
        parse_size_v2(text)
    assert (raised.value.status, raised.value.parameter) == (400, "size")


@pytest.mark.parametrize(
    ("out", "region", "expected"),
    [
        ((400, 300), (400, 300), "full"),
        ((200, 150), (400, 300), "200,"),
        ((800, 600), (400, 300), "800,"),
        ((133, 100), (400, 300), "133,"),
        ((200, 200), (400, 300), "200,200"),
    ],
)
def test_canonical_size(out: tuple[int, int], region: tuple[int, int], expected: str) -> None:
    assert canonical_size_v2(*out, *region) == expected


def test_info_json_is_the_2_1_document(client: TestClient) -> None:
    response = client.get(f"{V2}/info.json")
    assert response.status_code == 200
    info = response.json()
    assert info["@context"] == "http://iiif.io/api/image/2/context.json"
    assert info["@id"] == f"http://testserver{V2}"
    assert info["protocol"] == "http://iiif.io/api/image"
    assert (info["width"], info["height"]) == (400, 300)
    assert info["tiles"][0]["scaleFactors"] == [1]
    assert info["sizes"][-1] == {"width": 400, "height": 300}
    profile, description = info["profile"]
    assert profile == "http://iiif.io/api/image/2/level2.json"
    assert {"jpg", "png", "webp"} <= set(description["formats"])
    assert description["qualities"] == ["default", "color", "gray", "bitonal"]
    assert {"sizeAboveFull", "regionSquare", "mirroring"} <= set(description["supports"])
    assert response.headers["link"] == '<http://iiif.io/api/image/2/level2.json>;rel="profile"'
    jsonld = client.get(f"{V2}/info.json", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith(
        'application/ld+json;profile="http://iiif.io/api/image/2/'
    )


def test_info_json_carries_the_limits_and_services_2_1_style(image_root: Path) -> None:
    settings = Settings(image_root=image_root, limits=Limits(300, 200))
    with TestClient(create_app(settings, [masking_extension()])) as client:
        info = client.get(f"{V2}/info.json").json()
    assert (info["profile"][1]["maxWidth"], info["profile"][1]["maxHeight"]) == (300, 200)
    polygon = info["service"][0]
    assert polygon["@id"] == f"http://testserver{V2}#polygon-region"
    assert polygon["@type"] == "PolygonRegionService" and "id" not in polygon


def test_images_upscale_without_caret_and_link_the_2_1_canonical_url(client: TestClient, grid) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"{V2}/full/full/0/default.png")
    assert response.status_code == 200
    assert grid.decode(response.content).shape == (300, 400, 3)
    assert f'<http://testserver{V2}/full/full/0/default.png>;rel="canonical"' in response.headers["link"]
    assert '<http://iiif.io/api/image/2/level2.json>;rel="profile"' in response.headers["link"]
    upscaled = client.get(f"{V2}/0,0,100,100/200,/0/default.png")
    assert upscaled.status_code == 200
    assert grid.decode(upscaled.content).shape == (200, 200, 3)
    assert f"{V2}/0,0,100,100/200,/0/default.png" in upscaled.headers["link"]
    assert client.get(f"{V2}/full/^200,/0/default.png").status_code == 400
    square = client.get(f"{V2}/square/max/0/gray.jpg")
    assert square.status_code == 200
    assert f"{V2}/50,0,300,300/full/0/gray.jpg" in square.headers["link"]


def test_redirect_cors_and_etag_as_in_3_0(client: TestClient) -> None:
    redirect = client.get(V2, follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (303, f"http://testserver{V2}/info.json")
    tile = client.get(f"{V2}/full/100,/0/default.jpg", headers={"Origin": "https://viewer.example"})
    assert tile.headers["access-control-allow-origin"] == "*"
    again = client.get(f"{V2}/full/100,/0/default.jpg", headers={"If-None-Match": tile.headers["etag"]})
    assert again.status_code == 304
    v3 = client.get("/iiif/3/grid.png/full/100,/0/default.jpg")
    assert v3.content == tile.content and v3.headers["etag"] != tile.headers["etag"]


def test_limits_and_anonymous_limits_apply(make_client) -> None:  # type: ignore[no-untyped-def]
    client = make_client(limits=Limits(200, 200), anonymous_max_area=10_000)
    assert client.get(f"{V2}/full/150,/0/default.jpg").status_code == 413
    assert client.get(f"{V2}/full/100,/0/default.jpg").status_code == 200
    assert client.get(f"{V2}/info.json").json()["profile"][1]["maxArea"] == 10_000


def test_private_identifiers_need_a_token_and_tiles_are_labelled(image_root: Path) -> None:
    service = ServiceSettings(tokens=frozenset({token_digest("secret")}), private_prefixes=("sub/",))
    app = create_app(Settings(image_root=image_root, service=service))
    with TestClient(app) as client:
        for path in ("/iiif/2/sub%2Fimg.png/info.json", "/iiif/2/sub%2Fimg.png/full/40,/0/default.jpg"):
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer secret"}).status_code == 200
    scope = {"type": "http", "path": f"{V2}/full/max/0/default.jpg", "method": "GET", "query_string": b""}
    assert app.state.routes.label(scope) == TILE


def test_polygon_regions_are_served_and_labelled_as_in_3_0(image_root: Path) -> None:
    app = create_app(Settings(image_root=image_root), [masking_extension()])
    path = "/iiif/2/grid.png/poly:0,0,100,0,100,100/full/0/default.png"
    with TestClient(app) as client:
        response = client.get(path)
        assert response.status_code == 200
        assert response.content == client.get(path.replace("/2/", "/3/").replace("full", "max")).content
    scope = {"type": "http", "path": path, "method": "GET", "query_string": b""}
    assert app.state.routes.label(scope).kind == "masked"
