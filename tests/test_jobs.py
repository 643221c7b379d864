"""Whole-document jobs: in-process end to end over HTTP, and on RQ with a real Redis and two worker processes.

The page is `document_page(1200, 900, SAMPLE_LINES, seed=5)` (30 lines of known text, as in
test_ocr_sidecars.py); each job page runs Stage 1 and Stage 2 on it with the real models.
"""

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pyvips
from job_processes import start_worker, stop
from starlette.testclient import TestClient

from extensions.annotations import alto_xml, iiif, page_xml
from extensions.job_settings import JobSettings
from extensions.job_store import MemoryJobStore, job_status
from extensions.jobs import jobs_extension, manifest_pages
from iiif_server.app import create_app
from iiif_server.cache import CacheSettings
from iiif_server.samples import SAMPLE_LINES, document_page
from iiif_server.settings import Settings

MIN_LINES = 25


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("job-pages")
    image, _ = document_page(1200, 900, SAMPLE_LINES, seed=5)
    image.pngsave(str(folder / "page.png"))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    return folder


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[TestClient]:
    app = create_app(Settings(image_root=folder), [jobs_extension(JobSettings(threads=2))])
    with TestClient(app) as test_client:
        yield test_client


def wait_for(client: TestClient, url: str, timeout: float = 180) -> dict[str, Any]:
    """Poll a job until every page is done."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(url).json()
        if job["status"] in ("finished", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def check_documents(client: TestClient, page: dict[str, Any]) -> None:
    """The page's ALTO, PAGE and IIIF results parse and carry the text."""
    results = page["results"]
    alto = client.get(results["ocr.alto.xml"])
    assert alto.status_code == 200 and alto.headers["content-type"].startswith("application/xml")
    lines = [r for r in alto_xml.parse(alto.content) if r.region_type == "TextLine"]
    assert len(lines) == page["lines"] >= MIN_LINES
    assert "IIIF" in " ".join(line.text or "" for line in lines) or "IIF" in " ".join(
        line.text or "" for line in lines
    )
    page_doc = client.get(results["ocr.page.xml"])
    assert len([r for r in page_xml.parse(page_doc.content) if r.region_type == "TextLine"]) == page["lines"]
    document = client.get(results["ocr.json"])
    assert document.headers["content-type"] == iiif.MEDIA_TYPE  # the `ocr.json` sidecar's one media type
    annotations = document.json()
    lines = [item for item in annotations["items"] if item["body"]["textGranularity"] == "line"]
    assert annotations["type"] == "AnnotationPage" and len(lines) == page["lines"]
    blocks = {item["body"]["block"] for item in lines}
    assert blocks and all(
        item["id"].rsplit("/", 1)[1] in blocks for item in annotations["items"] if item not in lines
    )
    assert all(item["motivation"] == "supplementing" for item in annotations["items"])


@pytest.fixture(scope="module")
def finished_job(client: TestClient) -> dict[str, Any]:
    response = client.post("/jobs", json={"identifiers": ["page", "missing", "broken"]})
    assert response.status_code == 202, response.text
    created = response.json()
    assert response.headers["location"] == created["url"]
    assert created["progress"]["total"] == 3
    return wait_for(client, created["url"])


def test_inprocess_job_reads_every_page_and_reports_failures(
    client: TestClient, finished_job: dict[str, Any]
) -> None:
    job = finished_job
    assert job["status"] == "finished" and job["backend"] == "inprocess"
    assert job["progress"] == {"done": 3, "total": 3, "queued": 0, "running": 0, "finished": 1, "failed": 2}
    page, missing, broken = job["pages"]
    assert page["status"] == "finished" and page["label"] == "page"
    check_documents(client, page)
    assert missing["status"] == "failed" and missing["error"].startswith("404") and "results" not in missing
    assert broken["status"] == "failed" and broken["error"].startswith("501")
    not_done = client.get(f"{job['url']}/2/ocr.alto.xml")
    assert not_done.status_code == 404 and "page 2" in not_done.text


def test_annotations_target_the_image_canvas(client: TestClient, finished_job: dict[str, Any]) -> None:
    annotations = client.get(finished_job["pages"][0]["results"]["ocr.json"]).json()
    assert annotations["id"] == f"{finished_job['url']}/1/ocr.json"
    target = annotations["items"][0]["target"]
    assert target["source"] == "http://testserver/iiif/presentation/page/canvas/1"


def test_uploaded_image_is_a_one_page_job(client: TestClient, folder: Path) -> None:
    crop = pyvips.Image.new_from_file(str(folder / "page.png")).crop(0, 0, 1200, 300)
    response = client.post("/jobs", content=crop.pngsave_buffer(), headers={"content-type": "image/png"})
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["url"])
    assert job["status"] == "finished", job
    (page,) = job["pages"]
    assert page["label"] == "upload.png" and page["lines"] >= 5
    alto = client.get(page["results"]["ocr.alto.xml"]).content
    assert b"<fileName>upload.png</fileName>" in alto


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"content": b"not json", "headers": {"content-type": "application/json"}}, 400, "JSON"),
        ({"json": {"identifiers": []}}, 400, "non-empty"),
        ({"json": {"identifiers": ["a"], "manifest": "http://x/m"}}, 400, "exactly one"),
        ({"json": {"identifiers": [1]}}, 400, "string"),
        ({"json": {"manifest": "ftp://x/m"}}, 400, "http"),
        (
            {"json": {"manifest": "http://not-allowed.example/m.json"}},
            403,
            "not under a configured upstream",
        ),
        ({"content": b"no image", "headers": {"content-type": "image/png"}}, 400, "not an image"),
    ],
)
def test_bad_job_requests(client: TestClient, body: dict[str, Any], status: int, reason: str) -> None:
    response = client.post("/jobs", **body)
    assert response.status_code == status and reason in response.text, response.text


def test_unknown_job_and_document(client: TestClient, finished_job: dict[str, Any]) -> None:
    assert client.get("/jobs/nope").status_code == 404
    assert client.get(f"{finished_job['url']}/1/ocr.pdf").status_code == 404
    assert client.get(f"{finished_job['url']}/9/ocr.json").status_code == 404


def test_too_many_pages(folder: Path) -> None:
    app = create_app(Settings(image_root=folder), [jobs_extension(JobSettings(max_pages=2, queue_size=2))])
    with TestClient(app) as small:
        response = small.post("/jobs", json={"identifiers": ["a", "b", "c"]})
        assert response.status_code == 413 and "IIIF_JOBS_MAX_PAGES=2" in response.text


def test_job_status_from_pages() -> None:
    def pages(*states: str) -> list[dict[str, Any]]:
        return [{"status": state} for state in states]

    assert job_status(pages("queued", "queued")) == "queued"
    assert job_status(pages("finished", "queued")) == "running"
    assert job_status(pages("finished", "failed")) == "finished"
    assert job_status(pages("failed", "failed")) == "failed"
    store = MemoryJobStore(ttl=-1)
    store.create("old", {"id": "old"}, [])
    assert store.record("old") is None  # expired


def test_manifest_pages_presentation_3_and_2() -> None:
    service = "https://images.example.org/iiif/3/p1"
    v3 = {
        "items": [
            {
                "id": "https://example.org/c1",
                "label": {"en": ["p. 1"]},
                "items": [{"items": [{"body": {"service": [{"id": service, "type": "ImageService3"}]}}]}],
            },
            {"id": "https://example.org/c2", "items": []},
        ]
    }
    (page,) = manifest_pages(__import__("json").dumps(v3).encode(), "https://example.org/m")
    assert page == {
        "kind": "iiif",
        "service": service,
        "canvas": "https://example.org/c1",
        "label": '{"en": ["p. 1"]}',
    }
    v2 = {
        "sequences": [
            {
                "canvases": [
                    {"@id": "c", "label": "f1", "images": [{"resource": {"service": {"@id": service + "/"}}}]}
                ]
            }
        ]
    }
    assert manifest_pages(__import__("json").dumps(v2).encode(), "m")[0]["service"] == service


# --- RQ: the same page function on a Redis queue, two worker processes ---


def test_rq_job_with_two_workers(redis_url: str, folder: Path, tmp_path: Path) -> None:
    pytest.importorskip("rq")
    from redis import Redis
    from rq import Worker

    pages = tmp_path / "pages"
    pages.mkdir()
    for number in range(1, 5):  # copies under other names: each is read afresh, not from the cache
        shutil.copy(folder / "page.png", pages / f"p{number}.png")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    names = [f"{queue}-a", f"{queue}-b"]
    with (tmp_path / "workers.log").open("wb") as log:
        workers = [start_worker(redis_url, pages, queue, name, log) for name in names]
        try:
            connection = Redis.from_url(redis_url)
            deadline = time.monotonic() + 60
            while {w.name for w in Worker.all(connection=connection)} < set(names):
                assert time.monotonic() < deadline, (tmp_path / "workers.log").read_text()
                assert all(w.poll() is None for w in workers), (tmp_path / "workers.log").read_text()
                time.sleep(0.1)
            settings = Settings(image_root=pages, cache=CacheSettings(redis_url=redis_url))
            jobs = jobs_extension(JobSettings(backend="rq", redis_url=redis_url, queue=queue))
            with TestClient(create_app(settings, [jobs])) as client:
                response = client.post("/jobs", json={"identifiers": ["p1", "p2", "missing", "p3", "p4"]})
                assert response.status_code == 202, response.text
                job = wait_for(client, response.json()["url"], timeout=240)
                assert job["status"] == "finished" and job["backend"] == "rq", job
                assert [p["status"] for p in job["pages"]] == ["finished"] * 2 + ["failed"] + ["finished"] * 2
                assert job["pages"][2]["error"].startswith("404")
                pids = {int(p["worker"].split(":")[1]) for p in job["pages"]}  # host:pid:token
                assert pids == {w.pid for w in workers}, job  # both workers read pages
                for page in job["pages"]:
                    if page["status"] == "finished":
                        check_documents(client, page)
        finally:
            for worker in workers:
                stop(worker)
