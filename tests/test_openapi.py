"""`/openapi.json`: a valid OpenAPI 3.1 document of the loaded extensions, and schemathesis finding no 5xx on
a live server (a tiny text page, so the model-backed endpoints stay cheap)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from conformance.live_server import running_server
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.samples import SAMPLE_LINES, document_page
from iiif_server.settings import Settings


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("openapi-pages")
    image, _ = document_page(400, 200, SAMPLE_LINES[:3], seed=3)
    image.pngsave(str(folder / "page.png"))
    return folder


def test_document_is_valid_openapi(folder: Path) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    with TestClient(create_server_app(ServerSettings(Settings(image_root=folder)))) as client:
        document = client.get("/openapi.json").json()
    validator.validate(document)
    assert {"/mask/batch", "/jobs", "/jobs/{job_id}", "/iiif/3/{identifier}/ocr.alto.xml"} <= set(
        document["paths"]
    )
    image_api = {"/iiif/3/{identifier}/info.json", "/iiif/2/{identifier}/info.json"}
    image_api |= {
        f"/iiif/{v}/{{identifier}}/{{region}}/{{size}}/{{rotation}}/{{quality}}.{{format}}" for v in (2, 3)
    }
    assert image_api | {"/iiif/presentation/2/{identifier}/manifest.json"} <= set(document["paths"])
    assert document["servers"] == [{"url": "http://testserver"}]


def test_document_lists_only_loaded_extensions(folder: Path) -> None:
    app = create_server_app(ServerSettings(Settings(image_root=folder), ("masking", "openapi")))
    with TestClient(app) as client:
        paths = set(client.get("/openapi.json").json()["paths"])
    assert {"/mask/batch", "/metrics/cache", "/openapi.json", "/iiif/2/{identifier}/info.json"} <= paths
    assert not any(path.startswith(("/jobs", "/iiif/presentation/")) or "ocr" in path for path in paths)


def test_schemathesis_finds_no_server_errors(folder: Path, tmp_path: Path) -> None:
    binary = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if binary is None:
        pytest.skip("schemathesis is not installed (the test extra)")
    with running_server(folder, {"IIIF_JOBS_THREADS": "1"}) as server:
        command = [
            binary,
            "run",
            f"{server.base_url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "8",
            "--seed",
            "1",
            "--request-timeout",
            "30",
            "--no-color",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
