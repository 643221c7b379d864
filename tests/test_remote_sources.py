"""Remote IIIF sources against a real upstream on loopback behind a fault injector: fetch-through, caching,
retries, the circuit breaker, SSRF checks and per-item batch errors. Every test is bounded by an alarm."""

import io
import json
import time
import zipfile
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import pyvips
from starlette.testclient import TestClient

from extensions.server_settings import ServerSettings
from iiif_server.cache import CacheSettings

pytest_plugins = ["upstream_fixtures"]
pytestmark = pytest.mark.usefixtures("time_bound")
POLYGON = [[60, 40], [330, 60], [300, 250], [80, 220]]
POLY = "poly:" + ",".join(str(c) for point in POLYGON for c in point)


def pixels(body: bytes) -> np.ndarray:
    image = pyvips.Image.new_from_buffer(body, "")
    return image.numpy().reshape(image.height, image.width, image.bands)


def batch(client: TestClient, base_url: str, annotations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = {"iiif_base_url": base_url, "annotations": annotations, "output_format": "json"}
    response = client.post("/mask/batch", json=body)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_masked_region_through_iiif_base_url_and_cached(make_server, faults, upstream) -> None:
    server = make_server()
    annotations = [{"id": "a", "polygon": POLYGON}, {"id": "b", "polygon": POLYGON, "scale": 0.5}]
    remote = batch(server, f"{upstream[1]}/iiif/3/grid", annotations)
    local = server.post(
        "/mask/batch", json={"identifier": "grid", "annotations": annotations, "output_format": "json"}
    )
    for got, want in zip(remote, local.json()["items"], strict=True):
        assert got["status"] == "ok", got
        assert got["sha256"] == want["sha256"]  # the same masked pixels as from the local file
    sent = len(faults.requests)
    assert sent == 3  # info.json, then each item's box at its own size
    assert any("/60,40,270,210/135,105/" in p for p in faults.requests)  # scale 0.5: asked small

    again = batch(server, f"{upstream[1]}/iiif/3/grid", annotations)
    assert [i["sha256"] for i in again] == [i["sha256"] for i in remote]
    assert len(faults.requests) == sent  # the second batch did not touch upstream
    stats = server.get("/metrics/cache").json()
    assert stats["region"]["hits"] == 2 and stats["info"]["hits"] >= 1


def test_image_url_with_a_configured_prefix(make_server, faults) -> None:
    server = make_server()
    info = server.get("/iiif/3/up:grid/info.json").json()
    assert (info["width"], info["height"]) == (400, 300)
    for path in (f"{POLY}/max/0/default.png", f"{POLY}/pct:25/90/gray.png", "full/200,/0/default.jpg"):
        remote = server.get(f"/iiif/3/up:grid/{path}")
        local = server.get(f"/iiif/3/grid/{path}")
        assert remote.status_code == 200, remote.text
        difference = np.abs(pixels(remote.content).astype(int) - pixels(local.content).astype(int))
        # png is pixel-exact; jpg went through the upstream's JPEG first (edges of the cells differ)
        assert (difference.mean() < 2) if path.endswith("jpg") else (difference.max() == 0), path
    sent = len(faults.requests)
    assert server.get(f"/iiif/3/up:grid/{POLY}/max/0/default.png").status_code == 200
    assert len(faults.requests) == sent


def test_retries_recover_from_503s_with_retry_after(make_server, faults) -> None:
    server = make_server()
    server.get("/iiif/3/up:grid/info.json")
    faults.mode = "flaky"
    for index in range(4):
        response = server.get(f"/iiif/3/up:grid/{index * 10},0,100,100/max/0/default.png")
        assert response.status_code == 200, response.text
    assert faults.statuses.count(503) >= 3 and faults.statuses.count(200) >= 4


def test_slow_upstream_times_out_then_the_breaker_answers_at_once(make_server, faults) -> None:
    server = make_server()
    server.get("/iiif/3/up:grid/info.json")
    faults.mode = "slow"
    started = time.monotonic()
    response = server.get(f"/iiif/3/up:grid/{POLY}/max/0/default.png")
    assert response.status_code == 504 and "timed out" in response.text
    assert time.monotonic() - started < 5  # 3 attempts of 1 s, not 3 x the upstream's 3 s
    started = time.monotonic()
    response = server.get("/iiif/3/up:grid/0,0,10,10/max/0/default.png")
    assert response.status_code == 503 and "circuit open" in response.text, response.text
    assert time.monotonic() - started < 0.5
    assert server.get("/metrics/cache").json()["upstreams"][faults_host(server)]["breaker"] == "open"

    faults.mode = None
    time.sleep(1.1)  # the cool-down: the next call is the half-open probe, and it succeeds
    assert server.get("/iiif/3/up:grid/0,0,10,10/max/0/default.png").status_code == 200
    assert server.get("/metrics/cache").json()["upstreams"][faults_host(server)]["breaker"] == "closed"


def faults_host(server: TestClient) -> str:
    return next(iter(server.get("/metrics/cache").json()["upstreams"]))


def test_a_dead_upstream_fails_fast(make_server, faults) -> None:
    server = make_server()
    first = server.get("/iiif/3/dead:grid/info.json")
    assert first.status_code == 502 and "failed" in first.text
    started = time.monotonic()
    second = server.get("/iiif/3/dead:grid/full/max/0/default.png")
    assert second.status_code == 503 and "circuit open after 3 consecutive failures" in second.text
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("mode", "status", "reason"),
    [
        ("truncated", 502, "failed"),
        ("wrong_type", 502, "sent another content type where an image was expected"),
        ("huge", 502, "more than IIIF_UPSTREAM_MAX_BYTES=5000000"),
        ("redirect", 403, "not under a configured upstream"),
    ],
)
def test_bad_upstream_answers_are_clear_errors(
    make_server, faults, mode: str, status: int, reason: str
) -> None:
    server = make_server(breaker_threshold=100)
    server.get("/iiif/3/up:grid/info.json")
    faults.mode = mode
    started = time.monotonic()
    response = server.get(f"/iiif/3/up:grid/{POLY}/max/0/default.png")
    assert response.status_code == status and reason in response.text, response.text
    assert time.monotonic() - started < 5
    faults.mode = None
    assert server.get(f"/iiif/3/up:grid/{POLY}/max/0/default.png").status_code == 200  # nothing bad cached


def test_batch_over_a_flaky_upstream_reports_every_item(make_server, faults, upstream) -> None:
    server = make_server(attempts=1, breaker_threshold=100)
    server.get("/iiif/3/up:grid/info.json")
    faults.mode = "flaky"
    annotations = [
        {"id": f"line{i}", "polygon": [[10 + i, 10], [200 + i, 12], [190 + i, 60], [12 + i, 58]]}
        for i in range(8)
    ]
    items = batch(server, f"{upstream[1]}/iiif/3/grid", annotations)
    assert [i["annotation_id"] for i in items] == [a["id"] for a in annotations]
    ok = [i for i in items if i["status"] == "ok"]
    failed = [i for i in items if i["status"] == "error"]
    assert len(ok) + len(failed) == 8 and ok and failed
    assert all("answered 503" in i["error"] for i in failed)
    assert all(i["image_base64"] for i in ok)


def test_ssrf_hosts_and_private_addresses_are_refused(make_server, faults, upstream) -> None:
    server = make_server(allow_private=False)
    response = server.get("/iiif/3/up:grid/info.json")
    assert response.status_code == 403 and "non-public address" in response.text
    response = server.post(
        "/mask/batch",
        json={"iiif_base_url": "http://169.254.169.254/iiif/3/x", "annotations": [{"polygon": POLYGON}]},
    )
    assert response.status_code == 403 and "not under a configured upstream" in response.text
    assert faults.requests == []


def test_zip_batch_through_upstream(make_server, faults, upstream) -> None:
    server = make_server()
    body = {"iiif_base_url": f"{upstream[1]}/iiif/3/grid/info.json", "annotations": [{"polygon": POLYGON}]}
    archive = zipfile.ZipFile(io.BytesIO(server.post("/mask/batch", json=body).content))
    lines = [json.loads(line) for line in archive.read("metadata.jsonl").splitlines()]
    assert lines[0]["status"] == "ok" and lines[0]["source_image"] == f"{upstream[1]}/iiif/3/grid"


def test_settings_from_the_environment() -> None:
    environment = {
        "IIIF_UPSTREAMS": "loc=https://tile.loc.gov/image-services/iiif, ex=http://127.0.0.1:9000/iiif/3/",
        "IIIF_UPSTREAM_ALLOWED_HOSTS": "images.example.org, *.example.net",
    }
    settings = ServerSettings.from_env(environment).core.upstream
    assert settings.upstreams["loc"] == "https://tile.loc.gov/image-services/iiif/"
    hosts = [(p.scheme, p.host, p.port, p.path) for p in settings.prefixes]
    assert hosts == [
        ("https", "tile.loc.gov", None, "/image-services/iiif/"),
        ("http", "127.0.0.1", 9000, "/iiif/3/"),
        (None, "images.example.org", None, "/"),
        (None, "*.example.net", None, "/"),
    ]
    assert replace(settings, attempts=1).attempts == 1


def test_a_second_server_reads_the_region_from_redis(make_server, faults, redis_url: str) -> None:
    """Two server processes sharing Redis: what one fetched, the other does not fetch again."""
    shared = CacheSettings(redis_url=redis_url)
    first, second = make_server(cache=shared), make_server(cache=shared)
    path = f"/iiif/3/up:grid/{POLY}/pct:50/0/default.png"
    assert first.get(path).status_code == 200
    sent = len(faults.requests)
    assert second.get(path).content == first.get(path).content
    assert len(faults.requests) == sent
    stats = second.get("/metrics/cache").json()
    assert stats["backend"] == "redis" and stats["info"]["hits"] == 1 and stats["region"]["hits"] == 1
