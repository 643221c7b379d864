"""Presentation 2.1 manifests at `/iiif/presentation/2/{identifier}/manifest.json`: one sc:Canvas painted by
this server's Image API 2.1 service (whose URLs answer), linked from the front page, and the same access
check as every route that names an image."""

from pathlib import Path

import pytest
import pyvips
from starlette.testclient import TestClient

from extensions.ocr_sidecars import canvas_id
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.access import token_digest
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Settings

BASE = "http://testserver"
ADMIN = "presentation-admin-token"
MANIFEST = "/iiif/presentation/2/grid/manifest.json"


def server(image_root: Path, extensions: tuple[str, ...], **service: object) -> TestClient:
    settings = Settings(image_root=image_root, service=ServiceSettings(**service))  # type: ignore[arg-type]
    return TestClient(create_server_app(ServerSettings(settings, extensions)))


@pytest.fixture(scope="module")
def client(image_root: Path) -> TestClient:
    return server(image_root, ("ocr", "viewer"))


def test_manifest_is_presentation_2_1_with_one_canvas(client: TestClient) -> None:
    response = client.get(MANIFEST)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    assert "presentation/2/context.json" in response.headers["content-type"]
    document = response.json()
    assert document["@context"] == "http://iiif.io/api/presentation/2/context.json"
    assert (document["@id"], document["@type"], document["label"]) == (
        f"{BASE}{MANIFEST}",
        "sc:Manifest",
        "grid",
    )
    (sequence,) = document["sequences"]
    assert sequence["@type"] == "sc:Sequence"
    (canvas,) = sequence["canvases"]
    assert (canvas["@type"], canvas["width"], canvas["height"]) == ("sc:Canvas", 400, 300)
    assert canvas["@id"] == canvas_id(BASE, "grid")  # the Presentation 3 manifest's canvas
    (image,) = canvas["images"]
    assert (image["@type"], image["motivation"], image["on"]) == (
        "oa:Annotation",
        "sc:painting",
        canvas["@id"],
    )
    resource = image["resource"]
    assert (resource["@type"], resource["format"], resource["width"], resource["height"]) == (
        "dctypes:Image",
        "image/jpeg",
        400,
        300,
    )
    assert resource["service"] == {
        "@context": "http://iiif.io/api/image/2/context.json",
        "@id": f"{BASE}/iiif/2/grid",
        "profile": "http://iiif.io/api/image/2/level2.json",
    }
    assert canvas["seeAlso"]["@id"] == f"{BASE}/iiif/3/grid/ocr.json"


def test_the_image_and_its_service_answer_in_2_1(client: TestClient) -> None:
    resource = client.get(MANIFEST).json()["sequences"][0]["canvases"][0]["images"][0]["resource"]
    info = client.get(resource["service"]["@id"].removeprefix(BASE) + "/info.json").json()
    assert info["@context"] == resource["service"]["@context"] and info["@id"] == resource["service"]["@id"]
    assert info["profile"][0] == resource["service"]["profile"]
    image = client.get(resource["@id"].removeprefix(BASE))
    assert image.status_code == 200 and image.headers["content-type"] == resource["format"]
    decoded = pyvips.Image.new_from_buffer(image.content, "")
    assert (decoded.width, decoded.height) == (resource["width"], resource["height"])


def test_without_ocr_the_canvas_names_no_ocr(image_root: Path) -> None:
    canvas = server(image_root, ("viewer",)).get(MANIFEST).json()["sequences"][0]["canvases"][0]
    assert "seeAlso" not in canvas


@pytest.mark.parametrize(
    "path",
    [
        "/iiif/presentation/2/grid",
        "/iiif/presentation/2/grid/other.json",
        "/iiif/presentation/3/grid/manifest.json",
    ],
)
def test_other_paths_are_404(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_an_identifier_named_2_keeps_its_presentation_3_manifest(
    client: TestClient, image_root: Path
) -> None:
    assert client.get("/iiif/presentation/2/manifest.json").status_code == 404  # no image "2" here
    assert (
        client.get("/iiif/presentation/2%2Fgrid/manifest.json").status_code == 404
    )  # one identifier "2/grid"


def test_the_front_page_links_both_manifests(client: TestClient) -> None:
    page = client.get("/", headers={"Accept": "text/html"}).text
    assert f'href="{BASE}/iiif/presentation/grid/manifest.json"' in page
    assert f'href="{BASE}{MANIFEST}"' in page


def test_a_private_image_has_no_manifest_without_a_token(image_root: Path) -> None:
    with server(
        image_root, ("viewer",), tokens=frozenset({token_digest(ADMIN)}), private_prefixes=("sub/",)
    ) as client:
        path = "/iiif/presentation/2/sub%2Fimg.png/manifest.json"
        assert client.get(path).status_code == 401
        assert (
            client.get("/iiif/presentation/2/sub%2Fmissing/manifest.json").status_code == 401
        )  # never a 404
        allowed = client.get(path, headers={"Authorization": f"Bearer {ADMIN}"})
        assert allowed.status_code == 200
        assert allowed.json()["label"] == "sub/img.png"
        page = client.get("/", headers={"Accept": "text/html"}).text
        assert "sub%2Fimg" not in page and "sub/img" not in page
