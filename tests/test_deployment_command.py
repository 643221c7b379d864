"""The deployment's start command outside Docker, and the Docker files read against the repository.

Docker cannot run here, so the container's command (`iiif-server serve --workers N`: gunicorn with uvicorn
workers) runs as a subprocess on a free loopback port, and the Dockerfile, `.dockerignore` and
`docker-compose.yml` are checked by reading: every path they copy exists, the commands they run exist.
"""

import json
import re
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
import pyvips

from conformance.live_server import running_server

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
SETUP = (ROOT / "scripts" / "setup").read_text()


def fetch(url: str) -> tuple[int, Message, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


@pytest.fixture(scope="module")
def gunicorn_server(image_root: Path) -> Iterator[str]:
    """`iiif-server serve --workers 2 --host H --port P --images DIR`, the command of docker-compose.yml."""
    env = {"IIIF_EXTENSIONS": "masking,ocr,viewer"}
    with running_server(image_root, env, options=("--workers", "2"), timeout=60) as server:
        yield server.base_url
        assert "Booting worker" in server.read_log(), "the command did not run gunicorn"


def test_gunicorn_command_answers_info_and_tiles(gunicorn_server: str, grid) -> None:
    status, headers, body = fetch(f"{gunicorn_server}/iiif/3/pyramid.tif/info.json")
    assert status == 200, body
    info = json.loads(body)
    assert (info["width"], info["height"]) == (4096, 3072)  # the conftest's grid, 512 px cells
    tile = info["tiles"][0]["width"]
    url = f"{gunicorn_server}/iiif/3/pyramid.tif/0,0,{tile},{tile}/{tile},/0/default.jpg"
    for _ in range(6):  # several connections, so both workers answer
        status, headers, body = fetch(url)
        assert status == 200, body
        assert headers["Content-Type"] == "image/jpeg"
    image = pyvips.Image.new_from_buffer(body, "")
    assert (image.width, image.height) == (tile, tile)
    mean = [image[band].avg() for band in range(3)]
    assert all(abs(a - b) < 8 for a, b in zip(mean, grid.colour(0, 0), strict=True)), mean


def test_health_endpoint_the_image_checks(gunicorn_server: str) -> None:
    """The Dockerfile's HEALTHCHECK asks /healthz and falls back to / when it answers 404."""
    status, _, _ = fetch(f"{gunicorn_server}/healthz")
    if status == 404:
        status, _, _ = fetch(f"{gunicorn_server}/")
    assert status == 200


def compose() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_api_redis_and_the_job_workers() -> None:
    services = compose()["services"]
    assert set(services) == {"api", "worker", "redis"}
    api, worker = services["api"], services["worker"]
    assert api["command"][:4] == ["iiif-server", "serve", "--workers", "${IIIF_WORKERS:-0}"]
    assert worker["command"] == ["iiif-server", "worker"]
    for service in (api, worker):
        assert service["build"] == "."
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["environment"]["IIIF_JOBS_BACKEND"] == "rq"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert api["ports"] == ["${PORT:-8000}:8000"]
    assert services["redis"]["image"].startswith("redis:")


def test_compose_commands_are_commands_of_the_cli() -> None:
    """`iiif-server` is the project's console script, and `serve` and `worker` are its sub-commands."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["iiif-server"] == "iiif_server.cli:main"
    for service in ("api", "worker"):
        sub_command = compose()["services"][service]["command"][1]
        result = subprocess.run(
            [sys.executable, "-m", "iiif_server", sub_command, "--help"], capture_output=True, timeout=60
        )
        assert result.returncode == 0, result.stderr


def test_dockerfile_copies_paths_that_exist_and_are_not_ignored() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    sources = []
    for line in DOCKERFILE.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith(("--from", "<<")) for w in words):
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    needed = {"pyproject.toml", "iiif_server", "extensions", "ocr_onnx", "viewer"}
    assert needed <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert source not in ignored, source
    # node_modules comes from the node stage, built from the lock file that scripts/setup uses.
    assert "COPY viewer/package.json viewer/package-lock.json ./" in DOCKERFILE
    assert "RUN npm ci" in DOCKERFILE
    assert "COPY --from=viewer /viewer/node_modules ./viewer/node_modules" in DOCKERFILE
    assert {"node_modules", "**/node_modules", ".venv", "samples/generated"} <= ignored


def test_dockerfile_installs_like_scripts_setup() -> None:
    """The same ONNX model wheel without its dependencies, serving packages only (no train extra, no torch),
    a non-root user, fonts, the health check."""
    pinned = re.search(r"--no-deps (rapidocr-onnxruntime==\S+)", SETUP)
    assert pinned is not None
    assert f"--no-deps {pinned.group(1)}" in DOCKERFILE
    assert "RUN pip install --no-cache-dir -e . " in DOCKERFILE
    assert "[train]" not in DOCKERFILE and "torch" not in DOCKERFILE
    assert re.search(r"^FROM python:3\.11-slim$", DOCKERFILE, re.MULTILINE)
    assert re.search(r"^USER iiif$", DOCKERFILE, re.MULTILINE)
    assert "fonts-dejavu-core" in DOCKERFILE
    assert 'f"{base}/healthz"' in DOCKERFILE and 'CMD ["iiif-healthcheck"]' in DOCKERFILE
    assert DOCKERFILE.rstrip().endswith('CMD ["iiif-server", "serve"]')
