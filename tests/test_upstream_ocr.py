"""OCR on images of another IIIF server: every OCR route (regions.json, ocr.json, ALTO, PAGE, `{region}/ocr`,
`pred:` images, /jobs on an upstream identifier or manifest) and the viewer read an upstream page through the
app's one upstream client, and answer as for the same page in the folder. Predictions are kept per upstream
image version; a flaky upstream is retried and an open circuit breaker answers 503.

The upstream is this project's core (and viewer, for a manifest) over a folder holding the test page of
test_ocr_sidecars.py, behind the fault injector; the server under test has the same page in its own folder,
so `up:page` and `page` are one image read two ways."""

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fault_upstream import FaultInjector, serve_in_thread, upstream_settings
from fixed_models import FixedModels
from starlette.testclient import TestClient

from benchmarks.ocr_metrics import cer
from extensions.annotations import alto_xml, iiif, page_xml, parse_annotations
from extensions.job_settings import JobSettings
from extensions.jobs import jobs_extension
from extensions.masking import masking_extension
from extensions.ocr import ocr_extension
from extensions.ocr_settings import OCRSettings
from extensions.viewer import viewer_extension
from iiif_server.app import create_app
from iiif_server.cache import CacheSettings
from iiif_server.samples import SAMPLE_LINES, PageLine, document_page
from iiif_server.settings import Settings
from iiif_server.upstream_settings import parse_allowed_hosts

pytest_plugins = ["upstream_fixtures"]

LINE = ((100.0, 100.0), (600.0, 100.0), (600.0, 130.0), (100.0, 130.0))


@pytest.fixture(scope="module")
def page_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[PageLine]]:
    folder = tmp_path_factory.mktemp("upstream-ocr")
    image, lines = document_page(1200, 900, SAMPLE_LINES, seed=5)
    image.pngsave(str(folder / "page.png"))
    return folder, lines


@pytest.fixture(scope="module")
def upstream(page_folder: tuple[Path, list[PageLine]]) -> Iterator[tuple[FaultInjector, str]]:
    """The page on an upstream IIIF server (with a manifest of it), behind a fault injector: in this module,
    the upstream of `upstream_fixtures`' `faults`."""
    injector = FaultInjector(create_app(Settings(image_root=page_folder[0]), [viewer_extension()]))
    with serve_in_thread(injector) as base:
        yield injector, base


@pytest.fixture
def make_ocr_server(page_folder, upstream) -> Iterator[Callable[..., TestClient]]:
    """A fresh server (own caches and breakers) on stand-in models: `registry`, `cache`, upstream settings."""
    clients: list[TestClient] = []

    def make(registry: Any, cache: CacheSettings | None = None, **options: Any) -> TestClient:
        settings = Settings(
            image_root=page_folder[0],
            upstream=upstream_settings(upstream[1], **options),
            cache=cache or CacheSettings(),
        )
        client = TestClient(create_app(settings, [ocr_extension(OCRSettings(), registry)])).__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def server(page_folder, upstream) -> Iterator[TestClient]:
    """The server under test, on the real models: masks, OCR and jobs; `up:` names the upstream, whose
    manifests are allowed too."""
    allowed = parse_allowed_hosts(f"{upstream[1]}/iiif/presentation/")  # the manifest
    options = upstream_settings(upstream[1], timeout=30, allowed_hosts=allowed)
    settings = Settings(image_root=page_folder[0], upstream=options)
    extensions = [masking_extension(), ocr_extension(OCRSettings()), jobs_extension(JobSettings(threads=1))]
    with TestClient(create_app(settings, extensions)) as client:
        yield client


@pytest.fixture(scope="module")
def read_both(server: TestClient) -> dict[str, httpx.Response]:
    """ocr.json of the upstream page and of the same page in the folder (Stage 1 and 2 run here, once)."""
    answers = {name: server.get(f"/iiif/3/{name}/ocr.json") for name in ("up:page", "page")}
    for answer in answers.values():
        assert answer.status_code == 200, answer.text
    return answers


def lines_of(body: bytes) -> list[tuple[Any, ...]]:
    """Each region's id (its last path segment), polygon, confidence and text."""
    return [(r.id.rsplit("/", 1)[-1], r.polygon, r.confidence, r.text) for r in parse_annotations(body)]


def test_ocr_json_of_an_upstream_page_reads_it_as_the_local_page(
    read_both: dict[str, httpx.Response], page_folder
) -> None:
    upstream, local = read_both["up:page"], read_both["page"]
    assert upstream.headers["content-type"] == local.headers["content-type"] == iiif.MEDIA_TYPE
    assert upstream.json()["id"] == "http://testserver/iiif/3/up%3Apage/ocr.json"
    assert len(lines_of(upstream.content)) >= 25
    assert lines_of(upstream.content) == lines_of(local.content)  # the same pixels, the same lines and text
    items = upstream.json()["items"]
    text = "\n".join(item["body"]["value"] for item in items if item["body"]["textGranularity"] == "line")
    assert cer("\n".join(line.text for line in page_folder[1]), text) <= 0.02


def test_regions_json_of_an_upstream_page(server: TestClient, read_both) -> None:
    upstream, local = (server.get(f"/iiif/3/{name}/regions.json") for name in ("up:page", "page"))
    assert upstream.status_code == 200 and upstream.headers["content-type"] == iiif.MEDIA_TYPE
    assert lines_of(upstream.content) == lines_of(local.content)
    see_also = upstream.json()["items"][0]["seeAlso"][0]["id"]
    assert see_also == "http://testserver/iiif/3/up%3Apage/pred:r0001/max/0/default.png"


@pytest.mark.parametrize(
    ("name", "parse"), [("ocr.alto.xml", alto_xml.parse), ("ocr.page.xml", page_xml.parse)]
)
def test_xml_exports_of_an_upstream_page(server: TestClient, read_both, name: str, parse: Any) -> None:
    upstream, local = (server.get(f"/iiif/3/{identifier}/{name}") for identifier in ("up:page", "page"))
    assert upstream.status_code == 200 and upstream.headers["content-type"].startswith("application/xml")
    lines = [(r.id, r.polygon, r.text) for r in parse(upstream.content) if r.region_type == "TextLine"]
    assert len(lines) >= 25
    assert lines == [(r.id, r.polygon, r.text) for r in parse(local.content) if r.region_type == "TextLine"]


@pytest.mark.parametrize("region", ["pred:r0002", "100,150,900,30", "poly:90,150,1000,148,1000,182,90,184"])
def test_region_ocr_of_an_upstream_page(server: TestClient, read_both, region: str) -> None:
    upstream, local = (server.get(f"/iiif/3/{name}/{region}/ocr") for name in ("up:page", "page"))
    assert upstream.status_code == 200, upstream.text
    assert upstream.json() == local.json() and upstream.json()["region"] == region


def test_pred_image_of_an_upstream_page(server: TestClient, read_both) -> None:
    upstream, local = (
        server.get(f"/iiif/3/{name}/pred:r0003/max/0/default.png") for name in ("up:page", "page")
    )
    assert upstream.status_code == 200 and upstream.headers["content-type"] == "image/png"
    assert upstream.content == local.content  # a png upstream: the masked line pixel for pixel
    assert server.get("/iiif/3/up:page/pred:r9999/max/0/default.png").status_code == 404


def test_jobs_read_upstream_pages_through_the_apps_client_and_caches(
    server: TestClient, read_both, faults: FaultInjector, upstream
) -> None:
    """`up:page` and the canvas of a manifest (its image service is the same upstream image): both read with
    the predictions the sidecars made, so no upstream pixels are fetched again; `ocr.json` is JSON-LD."""
    manifest = f"{upstream[1]}/iiif/presentation/page/manifest.json"
    jobs = [
        server.post("/jobs", json=body) for body in ({"identifiers": ["up:page"]}, {"manifest": manifest})
    ]
    pages = []
    for created in jobs:
        assert created.status_code == 202, created.text
        deadline = time.monotonic() + 60
        while (job := server.get(created.json()["url"]).json())["status"] not in ("finished", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        pages.append(job["pages"][0])
    sidecar = read_both["up:page"]
    for page in pages:
        assert page["status"] == "finished", page
        document = server.get(page["results"]["ocr.json"])
        assert document.headers["content-type"] == sidecar.headers["content-type"]
        texts = [item["body"]["value"] for item in document.json()["items"]]
        assert texts == [item["body"]["value"] for item in sidecar.json()["items"]]
    # The manifest, and nothing else: the page's info.json, pixels and predictions were in the app's caches.
    assert faults.requests == ["/iiif/presentation/page/manifest.json"]


@pytest.mark.usefixtures("time_bound")
def test_predictions_are_kept_per_upstream_image_version(make_ocr_server, faults, upstream) -> None:
    """An info.json fetched again unchanged (its cache entry expired) keeps the predictions; a changed one
    (another version of the image) runs Stage 1 again."""
    models = FixedModels([LINE])
    server = make_ocr_server(models, cache=CacheSettings(info_ttl=0.2))
    assert server.get("/iiif/3/up:page/regions.json").status_code == 200
    assert models.detector().calls == 1
    time.sleep(0.3)
    assert server.get("/iiif/3/up:page/regions.json").status_code == 200
    assert faults.requests.count("/iiif/3/page/info.json") == 2 and models.detector().calls == 1
    info = json.loads(httpx.get(f"{upstream[1]}/iiif/3/page/info.json").content)
    faults.info_body = json.dumps(
        {**info, "rights": "http://rightsstatements.org/vocab/NoC-US/1.0/"}
    ).encode()
    time.sleep(0.3)
    assert server.get("/iiif/3/up:page/regions.json").status_code == 200
    assert models.detector().calls == 2


@pytest.mark.usefixtures("time_bound")
def test_ocr_on_a_flaky_upstream_recovers(make_ocr_server, faults) -> None:
    server = make_ocr_server(FixedModels([LINE]))
    faults.mode = "flaky"  # every other image request: 503 with Retry-After: 0
    for path in ("regions.json", "ocr.json", "pred:r0001/max/0/default.png", "0,0,600,300/ocr"):
        response = server.get(f"/iiif/3/up:page/{path}")
        assert response.status_code == 200, (path, response.text)
    assert faults.statuses.count(503) >= 2


@pytest.mark.usefixtures("time_bound")
def test_ocr_behind_an_open_breaker_answers_503(make_ocr_server, faults) -> None:
    server = make_ocr_server(FixedModels([LINE]), breaker_threshold=2)
    assert server.get("/iiif/3/up:page/info.json").status_code == 200
    faults.mode = "wrong_type"  # every image answer is an HTML page: not retried, a failure each
    for _ in range(2):
        assert server.get("/iiif/3/up:page/regions.json").status_code == 502
    sent = len(faults.requests)
    for path in ("regions.json", "ocr.json", "ocr.alto.xml", "0,0,600,300/ocr"):
        response = server.get(f"/iiif/3/up:page/{path}")
        assert response.status_code == 503 and "circuit open" in response.text, (path, response.text)
    assert len(faults.requests) == sent


@pytest.mark.usefixtures("time_bound")
def test_the_viewer_shows_an_upstream_page(page_folder, upstream, faults) -> None:
    settings = Settings(image_root=page_folder[0], upstream=upstream_settings(upstream[1]))
    with TestClient(create_app(settings, [masking_extension(), viewer_extension()])) as client:
        manifest = client.get("/iiif/presentation/up%3Apage/manifest.json")
        assert manifest.status_code == 200 and manifest.headers["content-type"] == iiif.MEDIA_TYPE
        canvas = manifest.json()["items"][0]
        assert (canvas["width"], canvas["height"]) == (1200, 900)
        region = "poly:90,150,1000,148,1000,182,90,184"
        panel = client.get("/viewer/up%3Apage/panel", params={"region": region})
        assert panel.status_code == 200 and "90,148,910,36" in panel.text, panel.text
