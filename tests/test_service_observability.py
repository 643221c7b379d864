"""Request ids and JSON log lines, /metrics in the Prometheus format, /healthz and /readyz."""

import json
import logging
from pathlib import Path
from urllib.parse import unquote

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from extensions.masking import masking_extension
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.app import create_app
from iiif_server.cache import CacheSettings
from iiif_server.extension import Extension
from iiif_server.request_log import JSONFormatter
from iiif_server.route_table import RouteTable
from iiif_server.settings import Settings


@pytest.fixture(scope="module")
def route_table(image_root: Path) -> RouteTable:
    """The route table of the full server, every extension loaded."""
    return create_server_app(ServerSettings(Settings(image_root=image_root))).state.routes


@pytest.mark.parametrize(
    ("path", "kind", "group"),
    [
        ("/iiif/3/grid.png/full/max/0/default.jpg", "tile", None),
        ("/iiif/3/grid.png/0,0,512,512/512,/0/default.jpg", "tile", None),
        ("/iiif/3/grid.png/info.json", "info", None),
        ("/iiif/3/grid.png/poly:1,1,9,1,9,9/max/0/default.png", "masked", None),
        ("/iiif/3/grid.png/pred:r0001/max/0/default.png", "masked", "ocr"),
        ("/iiif/3/grid.png/ocr.json", "sidecar", "ocr"),
        ("/iiif/3/grid.png/pct:0,0,50,50/ocr", "sidecar", "ocr"),
        ("/iiif/3/grid.png/no-such-sidecar.json", "other", None),
        ("/iiif/3/sub%2Fimg.png/info.json", "info", None),
        ("/iiif/3/grid.png", "other", None),
        ("/mask/batch", "batch", "batch"),
        ("/jobs", "jobs", "jobs"),
        ("/jobs/abc", "jobs", "jobs"),
        ("/viewer", "viewer", None),
        ("/viewer/grid.png", "viewer", None),
        ("/viewer/grid.png/panel?region=pred:r0001", "viewer", "ocr"),
        ("/viewer/grid.png?region=poly:1,1,9,1,9,9", "viewer", None),
        ("/iiif/presentation/grid.png/manifest.json", "viewer", None),
        ("/metrics", "ops", None),
        ("/readyz", "ops", None),
        ("/", "other", None),
        ("/nowhere", "other", None),
    ],
)
def test_the_kind_and_group_of_a_request_come_from_the_route_table(
    route_table: RouteTable, path: str, kind: str, group: str | None
) -> None:
    raw, _, query = path.partition("?")
    scope = {"type": "http", "method": "GET", "path": unquote(raw), "raw_path": raw.encode()}
    label = route_table.label({**scope, "query_string": query.encode()})
    assert (label.kind, label.group) == (kind, group)


def test_the_protect_groups_are_those_the_extensions_declare(route_table: RouteTable) -> None:
    assert route_table.groups == {"batch", "ocr", "jobs"}


def test_the_request_id_is_kept_or_made_and_logged_as_json(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="iiif_server.access"):
        given = client.get("/iiif/3/grid.png/info.json", headers={"X-Request-ID": "trace-42"})
        made = client.get("/iiif/3/grid.png/full/20,/0/default.png")
        unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert given.headers["x-request-id"] == "trace-42"
    assert len(made.headers["x-request-id"]) == 32
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"
    records = [r for r in caplog.records if r.name == "iiif_server.access"]
    assert len(records) == 3
    line = json.loads(JSONFormatter().format(records[0]))
    assert line["request_id"] == "trace-42"
    assert line["method"] == "GET"
    assert line["path"] == "/iiif/3/grid.png/info.json"
    assert line["status"] == 200
    assert line["kind"] == "info"
    assert line["duration_ms"] >= 0
    assert line["level"] == "INFO"
    assert json.loads(JSONFormatter().format(records[1]))["kind"] == "tile"


def test_other_log_records_of_a_request_carry_its_id() -> None:
    from iiif_server.request_log import REQUEST_ID

    token = REQUEST_ID.set("abc")
    try:
        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "upstream %s failed", ("h",), None)
        line = json.loads(JSONFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line == {**line, "request_id": "abc", "message": "upstream h failed", "level": "WARNING"}


def samples(client: TestClient) -> dict[str, list]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families: dict[str, list] = {}
    for family in text_string_to_metric_families(response.text):
        families.setdefault(family.name, []).extend(family.samples)
    return families


def test_metrics_count_requests_by_kind_and_status(image_root: Path) -> None:
    app = create_app(Settings(image_root=image_root), [masking_extension()])
    with TestClient(app) as client:
        before = samples(client)
        assert client.get("/iiif/3/grid.png/full/30,/0/default.jpg").status_code == 200
        assert client.get("/iiif/3/grid.png/poly:10,10,90,10,90,90/max/0/default.png").status_code == 200
        assert client.get("/iiif/3/nothing/info.json").status_code == 404
        after = samples(client)

    def value(families: dict[str, list], name: str, **labels: str) -> float:
        found = [s for samples in families.values() for s in samples if s.name == name]
        return sum(s.value for s in found if labels.items() <= s.labels.items())

    for kind in ("tile", "masked"):
        count = "iiif_request_duration_seconds_count"
        assert value(after, count, kind=kind) == value(before, count, kind=kind) + 1
        assert any(
            s.name == "iiif_request_duration_seconds_bucket" for s in after["iiif_request_duration_seconds"]
        )
        total = "iiif_requests_total"
        assert (
            value(after, total, kind=kind, status="200") == value(before, total, kind=kind, status="200") + 1
        )
    assert value(after, "iiif_requests_total", kind="info", status="404") >= 1
    assert {s.labels["cache"] for s in after["iiif_cache_hits"]} == {"info", "region", "predictions"}
    assert "iiif_cache_misses" in after
    assert "iiif_in_flight_requests" in after
    assert "iiif_model_inference_seconds" in after


def test_the_cache_json_metrics_still_answer(client: TestClient) -> None:
    body = client.get("/metrics/cache").json()
    assert body["backend"] == "memory"
    assert "upstreams" in body


def test_healthz_answers_while_the_process_runs(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_its_checks(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["images"] == "ok"
    assert response.headers["cache-control"] == "no-store"


def test_readyz_answers_503_when_the_image_folder_cannot_be_read(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(image_root=tmp_path / "missing"))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert response.json()["checks"]["images"].startswith("failed: FileNotFoundError")


def test_readyz_answers_503_when_redis_does_not_answer(image_root: Path) -> None:
    cache = CacheSettings(redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    with TestClient(create_app(Settings(image_root=image_root, cache=cache))) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"].startswith("failed")


def test_readyz_pings_a_live_redis(image_root: Path, redis_url: str) -> None:
    cache = CacheSettings(redis_url=redis_url)
    with TestClient(create_app(Settings(image_root=image_root, cache=cache))) as client:
        assert client.get("/readyz").json()["checks"]["cache"] == "ok"


def test_readyz_asks_the_extensions(image_root: Path) -> None:
    def models_missing() -> dict[str, str]:
        raise FileNotFoundError("model file not found")

    extensions = [
        Extension(name="ocr", readiness=lambda: {"detector": "loaded", "recognizer": "loadable"}),
        Extension(name="other", readiness=models_missing),
    ]
    with TestClient(create_app(Settings(image_root=image_root), extensions)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["ocr"] == {"detector": "loaded", "recognizer": "loadable"}
    assert checks["other"] == "failed: FileNotFoundError: model file not found"


def test_the_bundled_models_are_loadable() -> None:
    from ocr_onnx import ModelRegistry, OnnxSettings

    assert ModelRegistry(OnnxSettings()).readiness() == {"detector": "loadable", "recognizer": "loadable"}
