"""`/`: the HTML front page for browsers (thumbnails through the server's own IIIF URLs, sizes, links,
pages of 50), a JSON list and plain text for scripts; private identifiers are never listed."""

import re
from html import unescape
from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from extensions.viewer import viewer_links
from iiif_server.app import create_app
from iiif_server.errors import IIIFError
from iiif_server.extension import Extension
from iiif_server.front_page import PAGE_SIZE, page_count, parse_page, thumbnail_size
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Settings

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PUBLIC = 53


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """53 public images (one 600x300, the rest 30x20, one named with HTML's characters) and two private."""
    root = tmp_path_factory.mktemp("front")
    small = pyvips.Image.black(30, 20, bands=3) + 90
    pyvips.Image.black(600, 300, bands=3).write_to_file(str(root / "big.png"))
    small.write_to_file(str(root / "a<b>&c.png"))
    for n in range(PUBLIC - 2):
        small.write_to_file(str(root / f"page-{n:03}.png"))
    for name in ("secret-one.png", "secret-two.png"):
        small.write_to_file(str(root / name))
    return root


@pytest.fixture(scope="module")
def client(folder: Path) -> TestClient:
    service = ServiceSettings(private_prefixes=("secret-",))
    links = Extension(name="links", image_links=lambda base, i: [("ocr.json", f"{base}/x?id={i}&y")])
    return TestClient(create_app(Settings(image_root=folder, service=service), [links]))


def test_pages_are_checked() -> None:
    assert (page_count(0), page_count(50), page_count(51)) == (1, 1, 2)
    assert (parse_page(None, 120), parse_page("3", 120)) == (1, 3)
    for text, status in (("0", 400), ("-1", 400), ("x", 400), ("4", 404)):
        with pytest.raises(IIIFError) as raised:
            parse_page(text, 120)
        assert raised.value.status == status
    assert (thumbnail_size((200, 150)), thumbnail_size((201, 10))) == ("max", "!200,200")


def test_html_lists_public_images_with_working_thumbnails(client: TestClient) -> None:
    response = client.get("/", headers=HTML)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert response.headers["vary"] == "Accept"
    page = response.text
    assert "secret" not in page
    assert "<script" not in page and "http" not in page.replace("http://testserver", "")
    thumbnails = [unescape(src) for src in re.findall(r'<img src="([^"]+)"', page)]
    assert len(thumbnails) == PAGE_SIZE
    big = "http://testserver/iiif/3/big/full/!200,200/0/default.jpg"
    assert big in thumbnails
    assert "600 &times; 300 px" in page and "30 &times; 20 px" in page
    assert 'href="http://testserver/iiif/3/big/info.json"' in page
    image = pyvips.Image.new_from_buffer(client.get(big).content, "")
    assert (image.width, image.height) == (200, 100)
    small = next(src for src in thumbnails if "page-000" in src)
    assert client.get(small).status_code == 200


def test_names_and_links_are_escaped(client: TestClient) -> None:
    page = client.get("/", headers=HTML).text
    assert "a<b>&c" not in page
    assert "<b>a&lt;b&gt;&amp;c</b>" in page
    assert 'href="http://testserver/x?id=big&amp;y">ocr.json</a>' in page
    assert 'src="http://testserver/iiif/3/a%3Cb%3E%26c/full/max/0/default.jpg"' in page


def test_html_is_paginated(client: TestClient) -> None:
    first = client.get("/", headers=HTML).text
    assert 'href="?page=2" rel="next"' in first and "page 1 of 2" in first
    second = client.get("/?page=2", headers=HTML).text
    assert len(re.findall(r"<img ", second)) == PUBLIC - PAGE_SIZE
    assert 'href="?page=1" rel="prev"' in second and 'rel="next"' not in second
    assert client.get("/?page=3", headers=HTML).status_code == 404
    assert client.get("/?page=two", headers=HTML).status_code == 400


def test_scripts_get_text_by_default_and_json_when_asked(client: TestClient) -> None:
    text = client.get("/")
    assert text.headers["content-type"].startswith("text/plain")
    lines = text.text.splitlines()
    assert lines[0].startswith("IIIF Image API") and len(lines) == PUBLIC + 1
    assert "http://testserver/iiif/3/big/info.json" in lines and "secret" not in text.text
    listing = client.get("/", headers={"Accept": "application/json"}).json()
    assert len(listing) == PUBLIC and not any("secret" in entry["id"] for entry in listing)
    assert {"id": "big", "info": "http://testserver/iiif/3/big/info.json"} in listing


def test_the_viewer_links_an_image_page_and_manifest() -> None:
    links = dict(viewer_links("http://host", "a/b.png"))
    assert links["viewer"] == "http://host/viewer/a%2Fb.png"
    assert links["manifest"].endswith("/a%2Fb.png/manifest.json")
