"""The viewer extension over HTTP: manifests, the `/viewer` pages, the region panel and the Mirador bundle.

The OCR extension is loaded only where the manifest's `annotations` are checked: it runs no model until
`ocr.json` or a `pred:` region is asked for, and these tests ask for neither.
"""

import re
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from extensions.ocr_sidecars import canvas_id
from extensions.presentation import manifest
from extensions.server import create_server_app, enabled_extensions
from extensions.server_settings import ServerSettings
from extensions.viewer import MIRADOR_BUNDLE, VIEWER_FOLDER, panel_size, viewer_extension
from iiif_server.app import create_app
from iiif_server.region import Box
from iiif_server.settings import Settings

BASE = "http://testserver"
TRIANGLE = "poly:50,50,350,60,200,250"
needs_mirador = pytest.mark.skipif(
    not (VIEWER_FOLDER / MIRADOR_BUNDLE).is_file(), reason="Mirador is not installed: run scripts/setup"
)


def server(image_root: Path, extensions: tuple[str, ...]) -> TestClient:
    return TestClient(create_server_app(ServerSettings(Settings(image_root=image_root), extensions)))


@pytest.fixture(scope="module")
def viewer_client(image_root: Path) -> TestClient:
    return server(image_root, ("masking", "viewer"))


def test_viewer_is_a_default_extension() -> None:
    assert "viewer" in [extension.name for extension in enabled_extensions(ServerSettings.from_env({}))]


# --- the manifest -------------------------------------------------------------------------------------------


def test_manifest_is_presentation_3_with_one_canvas_painted_by_this_server(image_root: Path) -> None:
    response = server(image_root, ("ocr", "viewer")).get("/iiif/presentation/grid/manifest.json")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    assert document["@context"] == "http://iiif.io/api/presentation/3/context.json"
    assert document["id"] == f"{BASE}/iiif/presentation/grid/manifest.json"
    assert document["type"] == "Manifest"
    assert document["label"] == {"none": ["grid"]}
    (canvas,) = document["items"]
    assert canvas["type"] == "Canvas"
    assert canvas["id"] == canvas_id(BASE, "grid") == f"{BASE}/iiif/presentation/grid/canvas/1"
    assert (canvas["width"], canvas["height"]) == (400, 300)
    (page,) = canvas["items"]
    assert page["type"] == "AnnotationPage"
    (painting,) = page["items"]
    assert (painting["type"], painting["motivation"], painting["target"]) == (
        "Annotation",
        "painting",
        canvas["id"],
    )
    body = painting["body"]
    assert (body["type"], body["format"], body["width"], body["height"]) == ("Image", "image/jpeg", 400, 300)
    assert body["service"] == [{"id": f"{BASE}/iiif/3/grid", "type": "ImageService3", "profile": "level2"}]
    assert canvas["annotations"] == [{"id": f"{BASE}/iiif/3/grid/ocr.json", "type": "AnnotationPage"}]


def test_manifest_body_and_service_answer(image_root: Path, viewer_client: TestClient) -> None:
    document = viewer_client.get("/iiif/presentation/grid/manifest.json").json()
    body = document["items"][0]["items"][0]["items"][0]["body"]
    info = viewer_client.get(body["service"][0]["id"] + "/info.json")
    assert info.status_code == 200
    assert info.json()["id"] == body["service"][0]["id"]
    image = viewer_client.get(body["id"])
    assert (image.status_code, image.headers["content-type"]) == (200, "image/jpeg")


def test_manifest_without_ocr_has_no_annotations(viewer_client: TestClient) -> None:
    canvas = viewer_client.get("/iiif/presentation/grid/manifest.json").json()["items"][0]
    assert "annotations" not in canvas


def test_manifest_of_an_identifier_with_a_slash_escapes_it(viewer_client: TestClient) -> None:
    document = viewer_client.get("/iiif/presentation/sub%2Fimg/manifest.json").json()
    assert document["id"] == f"{BASE}/iiif/presentation/sub%2Fimg/manifest.json"
    assert document["items"][0]["id"] == canvas_id(BASE, "sub/img")
    assert document["label"] == {"none": ["sub/img"]}
    service = document["items"][0]["items"][0]["items"][0]["body"]["service"][0]
    assert service["id"] == f"{BASE}/iiif/3/sub%2Fimg"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/iiif/presentation/nope/manifest.json", 404),
        ("/iiif/presentation/grid/other.json", 404),
        ("/iiif/presentation/..%2Fsecret/manifest.json", 400),
    ],
)
def test_manifest_errors(viewer_client: TestClient, path: str, status: int) -> None:
    assert viewer_client.get(path).status_code == status


def test_manifest_function_is_pure() -> None:
    document = manifest("https://images.example.org", "a b", 10, 20, with_ocr=False)
    assert document["id"] == "https://images.example.org/iiif/presentation/a%20b/manifest.json"
    assert document["items"][0]["id"] == canvas_id("https://images.example.org", "a b")


# --- the pages ----------------------------------------------------------------------------------------------


def test_viewer_lists_the_served_images(viewer_client: TestClient) -> None:
    response = viewer_client.get("/viewer")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', response.text)
    for identifier in ("grid", "alpha", "my-image", "pyramid"):
        assert f"{BASE}/viewer/{identifier}" in links
        assert f"{BASE}/iiif/presentation/{identifier}/manifest.json" in links
    assert viewer_client.get("/viewer/").text == response.text


@needs_mirador
def test_viewer_page_loads_mirador_on_the_manifest(viewer_client: TestClient) -> None:
    response = viewer_client.get("/viewer/grid")
    assert response.status_code == 200
    assert f'<script src="{BASE}/viewer/assets/mirador.min.js"></script>' in response.text
    assert f'"manifest": "{BASE}/iiif/presentation/grid/manifest.json"' in response.text
    bundle = viewer_client.get("/viewer/assets/mirador.min.js")
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert b"Mirador" in bundle.content[:1000]
    for asset in ("viewer.js", "viewer.css"):
        assert viewer_client.get(f"/viewer/assets/{asset}").status_code == 200


@needs_mirador
def test_viewer_page_of_an_identifier_with_a_slash(viewer_client: TestClient) -> None:
    response = viewer_client.get("/viewer/sub%2Fimg")
    assert response.status_code == 200
    assert f"{BASE}/iiif/presentation/sub%2Fimg/manifest.json" in response.text


@pytest.mark.parametrize("path", ["/viewer/nope", "/viewer/grid/other", "/viewer/nope/panel"])
def test_unknown_viewer_paths_are_404(viewer_client: TestClient, path: str) -> None:
    response = viewer_client.get(path)
    assert response.status_code == 404
    assert "nope" in response.text or "expected /viewer/{identifier}" in response.text


def test_without_mirador_the_page_answers_503_naming_the_setup(image_root: Path, tmp_path: Path) -> None:
    for folder in ("templates", "assets"):
        shutil.copytree(VIEWER_FOLDER / folder, tmp_path / folder)
    client = TestClient(create_app(Settings(image_root=image_root), [viewer_extension(tmp_path)]))
    for path in ("/viewer/grid", "/viewer/assets/mirador.min.js"):
        response = client.get(path)
        assert response.status_code == 503
        assert "scripts/setup" in response.text
    assert client.get("/viewer").status_code == 200


# --- the region panel ---------------------------------------------------------------------------------------


def test_panel_shows_the_bounding_rectangle_beside_the_masked_region(viewer_client: TestClient) -> None:
    response = viewer_client.get("/viewer/grid/panel", params={"region": TRIANGLE})
    assert response.status_code == 200
    sources = re.findall(r'<img src="([^"]+)"', response.text)
    assert sources == [
        f"{BASE}/iiif/3/grid/50,50,300,200/max/0/default.jpg",
        f"{BASE}/iiif/3/grid/{TRIANGLE}/max/0/default.png",
    ]
    for source in sources:
        assert viewer_client.get(source).status_code == 200
    assert f'value="{TRIANGLE}"' in response.text


@needs_mirador
def test_page_with_a_region_includes_the_panel(viewer_client: TestClient) -> None:
    response = viewer_client.get("/viewer/grid", params={"region": TRIANGLE})
    assert response.status_code == 200
    assert f"{BASE}/iiif/3/grid/{TRIANGLE}/max/0/default.png" in response.text


def test_panel_names_what_is_wrong_with_a_region(viewer_client: TestClient) -> None:
    response = viewer_client.get("/viewer/grid/panel", params={"region": "poly:1,2,<b>"})
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert "<b>" not in response.text
    assert "<img" not in response.text


def test_panel_without_a_region_is_only_the_form(viewer_client: TestClient) -> None:
    response = viewer_client.get("/viewer/grid/panel")
    assert response.status_code == 200
    assert "<form" in response.text
    assert "<img" not in response.text


@pytest.mark.parametrize(("box", "size"), [(Box(0, 0, 1000, 40), "max"), (Box(0, 0, 40, 1001), "!1000,1000")])
def test_panel_size_shows_the_region_whole(box: Box, size: str) -> None:
    assert panel_size(box) == size
