"""Validators and 304s, CORS on every answer, and the canonical and profile Link headers."""

import os
import shutil
from email.utils import formatdate

import pytest
import pyvips

IMAGE = "/iiif/3/grid/full/200,/0/default.png"
INFO = "/iiif/3/grid/info.json"
PROFILE_LINK = '<http://iiif.io/api/image/3/level2.json>;rel="profile"'


@pytest.mark.parametrize("url", [IMAGE, INFO])
def test_validators_on_200(client, image_root, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["etag"].startswith('"') and response.headers["etag"].endswith('"')
    mtime = (image_root / "grid.png").stat().st_mtime
    assert response.headers["last-modified"] == formatdate(int(mtime), usegmt=True)
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert client.get(url).headers["etag"] == response.headers["etag"]


def test_cache_max_age_setting(make_client):
    assert make_client(cache_max_age=60).get(IMAGE).headers["cache-control"] == "public, max-age=60"


@pytest.mark.parametrize("url", [IMAGE, INFO])
def test_if_none_match_gives_304(client, url):
    first = client.get(url)
    etag = first.headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(url, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["last-modified"] == first.headers["last-modified"]
        assert response.headers["access-control-allow-origin"] == "*"
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("url", [IMAGE, INFO])
def test_if_modified_since_gives_304(client, url):
    last_modified = client.get(url).headers["last-modified"]
    assert client.get(url, headers={"If-Modified-Since": last_modified}).status_code == 304
    later = formatdate(2_000_000_000, usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": later}).status_code == 304
    earlier = formatdate(1_000_000_000, usegmt=True)
    assert client.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_if_none_match_wins_over_if_modified_since(client):
    last_modified = client.get(IMAGE).headers["last-modified"]
    headers = {"If-None-Match": '"other"', "If-Modified-Since": last_modified}
    assert client.get(IMAGE, headers=headers).status_code == 200


def test_each_image_request_has_its_own_etag(client):
    urls = [
        IMAGE,
        "/iiif/3/grid/full/200,/0/default.jpg",
        "/iiif/3/grid/full/200,/90/default.png",
        "/iiif/3/grid/full/200,/0/gray.png",
        "/iiif/3/grid/0,0,200,150/max/0/default.png",
        "/iiif/3/sub%2Fimg/full/200,/0/default.png",
    ]
    assert len({client.get(url).headers["etag"] for url in urls}) == len(urls)


def test_equivalent_requests_share_the_canonical_etag(client):
    """`pct:50` and `200,` name the same output, so a cache may use one for the other."""
    a = client.get("/iiif/3/grid/full/pct:50/0/default.png")
    b = client.get("/iiif/3/grid/full/200,150/0/default.png")
    assert a.headers["etag"] == b.headers["etag"]
    assert a.headers["link"] == b.headers["link"]


@pytest.mark.parametrize("url", [IMAGE, INFO])
def test_a_changed_file_is_served_again(tmp_path, image_root, make_client, grid, url):
    shutil.copy(image_root / "grid.png", tmp_path / "grid.png")
    client = make_client(image_root=tmp_path)
    first = client.get(url)
    assert first.status_code == 200
    unchanged = {"If-None-Match": first.headers["etag"]}
    assert client.get(url, headers=unchanged).status_code == 304

    half = pyvips.Image.new_from_file(str(image_root / "alpha.png")).resize(0.5)
    half.pngsave(str(tmp_path / "grid.png"))
    mtime = os.stat(tmp_path / "grid.png").st_mtime + 10
    os.utime(tmp_path / "grid.png", (mtime, mtime))

    again = client.get(url, headers=unchanged)
    assert again.status_code == 200
    assert again.headers["etag"] != first.headers["etag"]
    assert again.headers["last-modified"] == formatdate(int(mtime), usegmt=True)
    since = client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 200
    if url == IMAGE:
        assert grid.decode(again.content).shape == (150, 200, 4)
    else:
        assert (again.json()["width"], again.json()["height"]) == (200, 150)


def test_304_keeps_the_link_header(client):
    first = client.get(IMAGE)
    response = client.get(IMAGE, headers={"If-None-Match": first.headers["etag"]})
    assert response.status_code == 304
    assert response.headers["link"] == first.headers["link"]


CANONICAL = [
    ("full/max/0/default.jpg", "full/max/0/default.jpg"),
    ("0,0,400,300/400,/0/default.jpg", "full/max/0/default.jpg"),
    ("full/pct:50/0/default.png", "full/200,150/0/default.png"),
    ("full/,150/0/color.png", "full/200,150/0/color.png"),
    ("full/!200,200/360/gray.webp", "full/200,150/360/gray.webp"),
    ("square/!100,100/!90/bitonal.gif", "50,0,300,300/100,100/!90/bitonal.gif"),
    ("pct:25,50,50,50/max/22.50/default.tif", "100,150,200,150/max/22.5/default.tif"),
    ("300,200,500,500/max/090/default.jpg", "300,200,100,100/max/90/default.jpg"),
    ("full/^pct:150/0/default.png", "full/^600,450/0/default.png"),
]


@pytest.mark.parametrize(("path", "canonical"), CANONICAL)
def test_canonical_and_profile_link(client, path, canonical):
    response = client.get(f"/iiif/3/grid/{path}")
    assert response.status_code == 200
    assert response.headers["link"] == (
        f'<http://testserver/iiif/3/grid/{canonical}>;rel="canonical", {PROFILE_LINK}'
    )


CORS_URLS = [
    (IMAGE, 200),
    (INFO, 200),
    ("/", 200),
    ("/iiif/3/grid", 303),
    ("/iiif/3/grid/full/max/0/default.bmp", 400),
    ("/iiif/3/nope/info.json", 404),
    ("/iiif/3/grid/full/max/0/default.jp2", 501),
    ("/nothing/here", 404),
]


@pytest.mark.parametrize(("url", "status"), CORS_URLS)
def test_cors_on_every_response(client, url, status):
    response = client.get(url, headers={"Origin": "https://viewer.example"}, follow_redirects=False)
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"link", "etag", "last-modified", "x-request-id"} <= exposed


def test_cors_on_413(make_client):
    client = make_client(max_source_pixels=10)
    response = client.get(INFO)
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == "*"


def test_preflight(client):
    response = client.options(
        IMAGE,
        headers={
            "Origin": "https://viewer.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-custom",
        },
    )
    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-headers"] == "authorization, x-custom"
    assert "GET" in [m.strip() for m in response.headers["access-control-allow-methods"].split(",")]
    assert int(response.headers["access-control-max-age"]) > 0


def test_preflight_without_requested_headers(client):
    response = client.options(
        INFO, headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-headers"] == "*"
