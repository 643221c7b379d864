"""Private images are checked on what an identifier resolves to, on every route that resolves one: aliases
(`./`, `//`, trailing `/.`, suffixes, symlinks, case, upstream URLs) and the side routes (batch, jobs, viewer,
manifest, listings, `pred:`) answer 401 without a token and 403 outside its scope, like the image itself."""

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import pyvips
from fault_upstream import serve_in_thread
from starlette.testclient import TestClient

from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.access import token_digest
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Settings
from iiif_server.upstream_settings import UpstreamSettings

ADMIN, READER, LEDGER = "admin-secret", "reader-secret", "ledger-secret"
EXTENSIONS = ("masking", "ocr", "viewer", "jobs")
RECTANGLE = [[50, 50], [250, 50], [250, 200], [50, 200]]
PRIVATE_NAMES = ("secret-ledger", "public-link", "SECRET-notes", "private/letter", "pub/letter")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def service_settings(**overrides: Any) -> ServiceSettings:
    """An admin token that reads everything, a reader scoped to `page|public`, one scoped to the ledger."""
    options: dict[str, Any] = {
        "tokens": frozenset({token_digest(ADMIN)}),
        "token_scopes": (
            (token_digest(READER), ("page", "public")),
            (token_digest(LEDGER), ("secret-ledger",)),
        ),
        "private_prefixes": ("secret", "private/"),
        **overrides,
    }
    return ServiceSettings(**options)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, image_root: Path) -> Path:
    """The grid as a public page, a private ledger and letter, and names that lead to them."""
    root = tmp_path_factory.mktemp("access")
    grid = pyvips.Image.new_from_file(str(image_root / "grid.png"))
    grid.pngsave(str(root / "page.png"))
    grid.tiffsave(str(root / "secret-ledger.tif"))
    grid.pngsave(str(root / "SECRET-notes.png"))
    (root / "private").mkdir()
    grid.pngsave(str(root / "private" / "letter.png"))
    os.symlink("secret-ledger.tif", root / "public-link.png")  # a public-looking name for a private file
    os.symlink("private", root / "pub")
    return root


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[TestClient]:
    settings = Settings(image_root=folder, service=service_settings())
    with TestClient(create_server_app(ServerSettings(settings, EXTENSIONS))) as test_client:
        yield test_client


def assert_refused(client: TestClient, method: str, path: str, body: Any = None) -> None:
    """401 with a Bearer challenge without a token, 403 with a token whose scope leaves the image out."""
    anonymous = client.request(method, path, json=body)
    assert anonymous.status_code == 401, (path, anonymous.text)
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    outsider = client.request(method, path, json=body, headers=bearer(READER))
    assert outsider.status_code == 403, (path, outsider.text)


@pytest.mark.parametrize(
    "alias",
    [
        "secret-ledger",
        ".%2Fsecret-ledger",
        ".%2F.%2Fsecret-ledger",
        "secret-ledger.tif",
        "secret-ledger%2F.",
        "public-link",
        "public-link.png",
        "SECRET-notes",
        "private%2Fletter",
        ".%2Fprivate%2Fletter",
        "private%2F%2Fletter",
        "private%2Fletter.png%2F.",
        "pub%2Fletter",
    ],
)
def test_every_spelling_of_a_private_image_needs_a_token(client: TestClient, grid: Any, alias: str) -> None:
    for path in (f"/iiif/3/{alias}/info.json", f"/iiif/3/{alias}/full/200,/0/default.png"):
        assert_refused(client, "GET", path)
    image = client.get(f"/iiif/3/{alias}/full/200,/0/default.png", headers=bearer(ADMIN))
    assert image.status_code == 200, image.text
    grid.assert_shows(grid.decode(image.content), (0, 0, 400, 300), tolerance=3)


def test_a_token_scoped_to_the_file_reads_it_by_any_name(client: TestClient) -> None:
    for alias in ("secret-ledger", ".%2Fsecret-ledger", "secret-ledger.tif"):
        assert client.get(f"/iiif/3/{alias}/info.json", headers=bearer(LEDGER)).status_code == 200
    # The link's own name is public, but the file it leads to is the ledger: the ledger's scope decides.
    assert client.get("/iiif/3/public-link/info.json", headers=bearer(LEDGER)).status_code == 200
    assert client.get("/iiif/3/private%2Fletter/info.json", headers=bearer(LEDGER)).status_code == 403


def test_dot_dot_is_checked_then_refused(client: TestClient) -> None:
    assert client.get("/iiif/3/x%2F..%2Fsecret-ledger/info.json").status_code == 401
    assert client.get("/iiif/3/x%2F..%2Fsecret-ledger/info.json", headers=bearer(ADMIN)).status_code == 400


def test_a_missing_private_name_answers_401_not_404(client: TestClient) -> None:
    """Whether a private name exists is not told to clients without a token, under any spelling."""
    for alias in ("secret-missing", ".%2Fsecret-missing"):
        assert client.get(f"/iiif/3/{alias}/info.json").status_code == 401
    assert client.get("/iiif/3/.%2Fsecret-missing/info.json", headers=bearer(ADMIN)).status_code == 404


def batch_body(**image: str) -> dict[str, Any]:
    """A one-item JSON batch on the image named by `identifier=` or `iiif_base_url=`."""
    return {**image, "annotations": [{"id": "box", "polygon": RECTANGLE}], "output_format": "json"}


ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/iiif/3/{url}/info.json", None),
    ("GET", "/iiif/3/{url}/full/200,/0/default.jpg", None),
    ("GET", "/iiif/3/{url}/pred:r0001/max/0/default.png", None),
    ("GET", "/iiif/3/{url}/regions.json", None),
    ("GET", "/iiif/3/{url}/ocr.json", None),
    ("GET", "/iiif/3/{url}/ocr.alto.xml", None),
    ("GET", "/iiif/3/{url}/ocr.page.xml", None),
    ("GET", "/iiif/3/{url}/0,0,100,100/ocr", None),
    ("GET", "/viewer/{url}", None),
    ("GET", "/viewer/{url}/panel?region=pred:r0001", None),
    ("GET", "/iiif/presentation/{url}/manifest.json", None),
    ("POST", "/mask/batch", "batch"),
    ("POST", "/mask/batch", "batch_url"),
    ("POST", "/jobs", "jobs"),
]


@pytest.mark.parametrize("identifier", ["secret-ledger", "./secret-ledger"])
@pytest.mark.parametrize(("method", "template", "body_kind"), ROUTES)
def test_every_route_that_resolves_an_identifier_checks_it(
    client: TestClient, identifier: str, method: str, template: str, body_kind: str | None
) -> None:
    url = quote(identifier, safe="")
    bodies = {
        "batch": batch_body(identifier=identifier),
        "batch_url": batch_body(iiif_base_url=f"http://testserver/iiif/3/{url}"),
        "jobs": {"identifiers": ["page", identifier]},
        None: None,
    }
    assert_refused(client, method, template.format(url=url), bodies[body_kind])


def test_a_batch_in_scope_gets_the_masked_pixels(client: TestClient, grid: Any) -> None:
    for token in (ADMIN, LEDGER):
        response = client.post(
            "/mask/batch", json=batch_body(identifier="./secret-ledger"), headers=bearer(token)
        )
        assert response.status_code == 200, response.text
        (item,) = response.json()["items"]
        pixels = grid.decode(base64.b64decode(item["image_base64"]))
        assert pixels.shape[:2] == (150, 200)
        grid.assert_shows(pixels[..., :3], (50, 50, 200, 150), tolerance=3)


@pytest.mark.parametrize(
    ("path", "public_link"), [("/", "/iiif/3/page/info.json"), ("/viewer", "/viewer/page")]
)
@pytest.mark.parametrize("token", [None, ADMIN])
def test_listings_never_name_private_images(
    client: TestClient, path: str, public_link: str, token: str | None
) -> None:
    response = client.get(path, headers=bearer(token) if token else {})
    assert response.status_code == 200
    assert public_link in response.text
    for name in ("secret", "SECRET", "public-link", "letter"):
        assert name not in response.text, (path, name)


def wait_for_job(client: TestClient, url: str, token: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url, headers=bearer(token)).json()
        if job["status"] in ("finished", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def test_a_job_naming_a_private_image_is_read_only_with_a_token_that_may_read_it(client: TestClient) -> None:
    created = client.post("/jobs", json={"identifiers": ["./secret-ledger"]}, headers=bearer(LEDGER))
    assert created.status_code == 202, created.text
    url = created.json()["url"].removeprefix("http://testserver")
    assert_refused(client, "GET", url)
    job = wait_for_job(client, url, LEDGER)
    assert job["pages"][0]["status"] == "finished", job
    assert_refused(client, "GET", f"{url}/1/ocr.json")
    assert client.get(f"{url}/1/ocr.json", headers=bearer(ADMIN)).status_code == 200
    public = client.post("/jobs", json={"identifiers": ["page"]})
    assert public.status_code == 202
    assert client.get(public.json()["url"]).status_code == 200  # public pages stay readable by anyone


def test_pred_regions_are_in_the_ocr_group(folder: Path) -> None:
    """`pred:` runs the detector: with `ocr` protected it needs the token, in the image and the panel."""
    service = ServiceSettings(tokens=frozenset({token_digest(ADMIN)}), protect=frozenset({"ocr"}))
    settings = ServerSettings(Settings(image_root=folder, service=service), EXTENSIONS)
    with TestClient(create_server_app(settings)) as client:
        for path in (
            "/iiif/3/page/pred:r0001/max/0/default.png",
            "/viewer/page/panel?region=pred:r0001",
            "/viewer/page?region=pred:r0001",
        ):
            refused = client.get(path)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"] == 'Bearer realm="iiif"'
        # With the token the detector runs (the grid has no text: the region is likely not found).
        with_token = client.get("/iiif/3/page/pred:r0001/max/0/default.png", headers=bearer(ADMIN))
        assert with_token.status_code in (200, 404), with_token.text
        assert client.get("/iiif/3/page/poly:50,50,250,50,150,200/max/0/default.png").status_code == 200
        assert client.get("/viewer/page/panel?region=poly:50,50,250,50,150,200").status_code == 200


@pytest.fixture(scope="module")
def upstream(folder: Path) -> Iterator[str]:
    """This project's server over the same folder, with no access rules, as an upstream on loopback."""
    with serve_in_thread(create_server_app(ServerSettings(Settings(image_root=folder), ("viewer",)))) as base:
        yield base


@pytest.fixture(scope="module")
def fronting(folder: Path, upstream: str) -> Iterator[TestClient]:
    """A server whose `up:` images (the upstream's) are private under `up:secret`."""
    prefixes = {"up": f"{upstream}/iiif/3/", "manifests": f"{upstream}/iiif/presentation/"}
    upstreams = UpstreamSettings(upstreams=prefixes, allow_private=True)
    service = service_settings(private_prefixes=("up:secret",))
    settings = Settings(image_root=folder, service=service, upstream=upstreams)
    with TestClient(create_server_app(ServerSettings(settings, EXTENSIONS))) as client:
        yield client


def test_upstream_aliases_of_a_private_prefix_need_a_token(
    fronting: TestClient, upstream: str, grid: Any
) -> None:
    """`up:secret` is private; the same image as `up:./secret...` or as its service URL is private too."""
    service_url = f"{upstream}/iiif/3/secret-ledger"
    spelled_out = f"{upstream}/iiif/%33/%73ecret-ledger"
    for alias in (
        "up:secret-ledger",
        "up:.%2Fsecret-ledger",
        quote(service_url, safe=""),
        quote(spelled_out, safe=""),
    ):
        assert_refused(fronting, "GET", f"/iiif/3/{alias}/full/200,/0/default.png")
    image = fronting.get(
        f"/iiif/3/{quote(service_url, safe='')}/full/200,/0/default.png", headers=bearer(ADMIN)
    )
    assert image.status_code == 200, image.text
    grid.assert_shows(grid.decode(image.content), (0, 0, 400, 300), tolerance=3)
    assert_refused(fronting, "POST", "/mask/batch", batch_body(iiif_base_url=service_url))


def test_a_job_on_a_manifest_checks_each_canvas_service(fronting: TestClient, upstream: str) -> None:
    """The manifest's canvas is painted by `up:secret-ledger`'s service: the job needs a token for it."""
    assert_refused(
        fronting, "POST", "/jobs", {"manifest": f"{upstream}/iiif/presentation/secret-ledger/manifest.json"}
    )
    public = fronting.post("/jobs", json={"manifest": f"{upstream}/iiif/presentation/page/manifest.json"})
    assert public.status_code == 202, public.text


@pytest.mark.parametrize(
    "path", ["/iiif/3/secret-ledger/info.json", "/iiif/3/secret-ledger/full/100,/0/default.png"]
)
def test_what_a_token_opened_is_not_kept_by_shared_caches(client: TestClient, path: str) -> None:
    """A CDN in front must not store a private answer and hand it to the next anonymous client."""
    private = client.get(path, headers=bearer(ADMIN))
    assert private.status_code == 200
    assert private.headers["cache-control"].startswith("private")
    public = client.get(path.replace("secret-ledger", "page"))
    assert public.headers["cache-control"].startswith("public")
