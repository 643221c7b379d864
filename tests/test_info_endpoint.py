"""info.json, the base-URI redirect, escaped identifiers and the public base URL behind proxies."""

import pytest

from iiif_server.settings import Limits

JSONLD = 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'
PROFILE_LINK = '<http://iiif.io/api/image/3/level2.json>;rel="profile"'


def get_info(client, identifier: str, **headers: str) -> dict:
    response = client.get(f"/iiif/3/{identifier}/info.json", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_info_of_a_png(client):
    response = client.get("/iiif/3/grid/info.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["link"] == PROFILE_LINK
    assert response.headers["vary"] == "Accept, Authorization"  # a known token lifts maxArea
    assert response.json() == {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": "http://testserver/iiif/3/grid",
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level2",
        "width": 400,
        "height": 300,
        "sizes": [
            {"width": 50, "height": 38},
            {"width": 100, "height": 75},
            {"width": 200, "height": 150},
            {"width": 400, "height": 300},
        ],
        "tiles": [{"width": 512, "height": 512, "scaleFactors": [1]}],
        "maxWidth": 12000,
        "maxHeight": 12000,
        "maxArea": 16_000_000,  # IIIF_ANONYMOUS_MAX_AREA: the client sent no token
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


def test_json_ld_when_asked_for(client):
    response = client.get("/iiif/3/grid/info.json", headers={"Accept": "application/ld+json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == JSONLD
    assert response.json()["id"] == "http://testserver/iiif/3/grid"
    other = client.get("/iiif/3/grid/info.json", headers={"Accept": "application/json, */*"})
    assert other.headers["content-type"] == "application/json"


def test_info_of_the_pyramid(client):
    info = get_info(client, "pyramid")
    assert (info["width"], info["height"]) == (4096, 3072)
    assert info["tiles"] == [{"width": 512, "height": 512, "scaleFactors": [1, 2, 4, 8]}]
    assert info["sizes"] == [{"width": 4096 // f, "height": 3072 // f} for f in (64, 32, 16, 8, 4, 2, 1)]


def test_every_advertised_size_is_served_at_that_size(client, grid):
    for size in get_info(client, "grid")["sizes"]:
        response = client.get(f"/iiif/3/grid/full/{size['width']},{size['height']}/0/default.png")
        assert response.status_code == 200
        assert grid.decode(response.content).shape == (size["height"], size["width"], 3)


def test_every_advertised_tile_is_served(client, grid):
    """The top-left tile at each scale factor, asked for as OpenSeadragon does (`w,` of the scaled tile)."""
    info = get_info(client, "pyramid")
    tile = info["tiles"][0]["width"]
    for factor in info["tiles"][0]["scaleFactors"]:
        width, height = min(tile * factor, 4096), min(tile * factor, 3072)
        region = "full" if (width, height) == (4096, 3072) else f"0,0,{width},{height}"
        response = client.get(f"/iiif/3/pyramid/{region}/{width // factor},/0/default.jpg")
        assert response.status_code == 200, response.text
        assert grid.decode(response.content).shape == (height // factor, width // factor, 3)


def test_limits_are_advertised_and_shape_sizes(make_client):
    client = make_client(
        limits=Limits(max_width=300, max_height=None, max_area=None), anonymous_max_area=None
    )
    info = get_info(client, "grid")
    assert (info["maxWidth"], info["maxHeight"]) == (300, 300)  # maxHeight defaults to maxWidth
    assert "maxArea" not in info
    assert info["sizes"] == [
        {"width": 50, "height": 38},
        {"width": 100, "height": 75},
        {"width": 200, "height": 150},
    ]


def test_area_limit_alone(make_client):
    client = make_client(limits=Limits(max_width=None, max_height=None, max_area=20_000))
    info = get_info(client, "grid")
    assert info["maxArea"] == 20_000
    assert "maxWidth" not in info and "maxHeight" not in info
    assert info["sizes"] == [{"width": 50, "height": 38}, {"width": 100, "height": 75}]


def test_tile_size_setting(make_client):
    # Files without a stored tile grid (a JPEG-tiled TIFF offers its own: test_stored_tiles.py).
    info = get_info(make_client(tile_size=256), "subifd")
    assert info["tiles"] == [{"width": 256, "height": 256, "scaleFactors": [1, 2, 4]}]


def test_base_uri_redirects_to_info(client):
    response = client.get("/iiif/3/grid", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/iiif/3/grid/info.json"
    assert response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("requested", "canonical"),
    [
        ("grid", "grid"),
        ("grid.png", "grid.png"),
        ("sub%2Fimg", "sub%2Fimg"),
        ("sub%2fimg", "sub%2Fimg"),
        ("sub%2Fimg.png", "sub%2Fimg.png"),
        ("my-image", "my-image"),
        ("my%2Dimage", "my-image"),
    ],
)
def test_escaped_identifiers(client, requested, canonical):
    info = get_info(client, requested)
    assert info["id"] == f"http://testserver/iiif/3/{canonical}"
    assert (info["width"], info["height"]) == (400, 300)
    redirect = client.get(f"/iiif/3/{requested}", follow_redirects=False)
    assert redirect.status_code == 303
    assert redirect.headers["location"] == f"http://testserver/iiif/3/{canonical}/info.json"


def test_unescaped_slash_is_not_an_identifier(client):
    response = client.get("/iiif/3/sub/img/info.json")
    assert response.status_code == 404
    assert "%2F" in response.text


def test_escaped_identifier_in_image_requests(client):
    response = client.get("/iiif/3/sub%2Fimg/full/200,/0/default.png")
    assert response.status_code == 200
    assert response.headers["link"].startswith(
        '<http://testserver/iiif/3/sub%2Fimg/full/200,150/0/default.png>;rel="canonical"'
    )


PUBLIC = "https://images.example.org/digital"


def test_public_base_url(make_client):
    client = make_client(public_base_url=PUBLIC)
    info = get_info(client, "sub%2Fimg", **{"X-Forwarded-Host": "evil.example"})
    assert info["id"] == f"{PUBLIC}/iiif/3/sub%2Fimg"
    image = client.get("/iiif/3/grid/full/max/0/default.jpg")
    assert image.headers["link"].startswith(f'<{PUBLIC}/iiif/3/grid/full/max/0/default.jpg>;rel="canonical"')
    redirect = client.get("/iiif/3/grid", follow_redirects=False)
    assert redirect.headers["location"] == f"{PUBLIC}/iiif/3/grid/info.json"
    assert f"{PUBLIC}/iiif/3/grid/info.json" in client.get("/").text


FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "proxy.example",
    "X-Forwarded-Prefix": "/iiif-api/",
}


def test_forwarded_headers_when_trusted(make_client):
    client = make_client(trust_forwarded_headers=True)
    base = "https://proxy.example/iiif-api/iiif/3"
    assert get_info(client, "grid", **FORWARDED)["id"] == f"{base}/grid"
    image = client.get("/iiif/3/grid/pct:50,0,50,50/100,/0/default.jpg", headers=FORWARDED)
    assert image.headers["link"] == (
        f'<{base}/grid/200,0,200,150/100,75/0/default.jpg>;rel="canonical", {PROFILE_LINK}'
    )
    redirect = client.get("/iiif/3/grid", headers=FORWARDED, follow_redirects=False)
    assert redirect.headers["location"] == f"{base}/grid/info.json"


def test_first_of_several_forwarded_values_wins(make_client):
    client = make_client(trust_forwarded_headers=True)
    headers = {"X-Forwarded-Proto": "https, http", "X-Forwarded-Host": "outer.example, inner.example"}
    assert get_info(client, "grid", **headers)["id"] == "https://outer.example/iiif/3/grid"


def test_forwarded_host_alone_keeps_the_scheme(make_client):
    client = make_client(trust_forwarded_headers=True)
    info = get_info(client, "grid", **{"X-Forwarded-Host": "other.example:8080"})
    assert info["id"] == "http://other.example:8080/iiif/3/grid"


def test_forwarded_headers_ignored_unless_trusted(client):
    assert get_info(client, "grid", **FORWARDED)["id"] == "http://testserver/iiif/3/grid"
    image = client.get("/iiif/3/grid/full/max/0/default.jpg", headers=FORWARDED)
    assert image.headers["link"].startswith("<http://testserver/iiif/3/grid/full/max/0/default.jpg>")


def test_info_etag_depends_on_the_public_url(make_client):
    client = make_client(trust_forwarded_headers=True)
    direct = client.get("/iiif/3/grid/info.json")
    proxied = client.get("/iiif/3/grid/info.json", headers=FORWARDED)
    assert direct.headers["etag"] != proxied.headers["etag"]
    again = client.get(
        "/iiif/3/grid/info.json", headers={"If-None-Match": direct.headers["etag"], **FORWARDED}
    )
    assert again.status_code == 200
    assert again.json()["id"].startswith("https://proxy.example/")


def test_index_lists_info_urls(client):
    response = client.get("/")
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert "http://testserver/iiif/3/grid/info.json" in lines
    assert "http://testserver/iiif/3/pyramid/info.json" in lines
