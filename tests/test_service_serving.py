"""`iiif-server serve --workers N` runs gunicorn configured from the settings: the command line's options over
the `IIIF_*` variables, and nothing written to the environment."""

import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.live_server import running_server
from iiif_server import cli
from iiif_server.gunicorn_server import GunicornServer, gunicorn_options, worker_settings
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Settings

WORKER_CLASS = "iiif_server.gunicorn_worker.IIIFUvicornWorker"


def settings_in_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith("IIIF_")}


class Started(Exception):
    """Stands for `GunicornServer.run`, which would not return."""


def started_gunicorn(monkeypatch: pytest.MonkeyPatch, *args: str) -> GunicornServer:
    """The gunicorn master `iiif-server serve ARGS` would start, stopped before it runs."""

    def run(self: GunicornServer) -> None:
        raise Started(self)

    monkeypatch.setattr(GunicornServer, "run", run)
    with pytest.raises(Started) as called:
        cli.main(["serve", *args])
    return called.value.args[0]


def test_several_workers_run_gunicorn_with_the_command_line_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IIIF_PORT", "8080")
    environment = settings_in_environment()
    server = started_gunicorn(monkeypatch, "--workers", "3", "--port", "9001", "--host", "0.0.0.0")
    assert (server.cfg.workers, server.cfg.bind) == (3, ["0.0.0.0:9001"])
    assert server.cfg.worker_class_str == WORKER_CLASS
    assert settings_in_environment() == environment  # the options reach the workers through the settings


def test_images_given_on_the_command_line_reach_the_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environment = settings_in_environment()
    server = started_gunicorn(monkeypatch, "--workers", "2", "--images", str(tmp_path))
    built: list[Any] = []
    monkeypatch.setattr(server, "build", built.append)
    server.load()  # what a worker does once forked
    assert (built[0].image_root, built[0].workers) == (tmp_path.resolve(), 2)
    assert settings_in_environment() == environment


def test_zero_workers_is_one_per_core_from_2_to_8(monkeypatch: pytest.MonkeyPatch) -> None:
    server = started_gunicorn(monkeypatch, "--workers", "0")
    assert server.cfg.workers == max(2, min(server.cores, 8))


def test_the_options_come_from_the_settings() -> None:
    service = ServiceSettings(max_requests=50000, keepalive_timeout=7)
    options = gunicorn_options(Settings(host="0.0.0.0", port=8080, workers=5, service=service), cores=4)
    assert (options["workers"], options["bind"]) == (5, "0.0.0.0:8080")
    assert options["worker_class"] == WORKER_CLASS
    assert (options["max_requests"], options["max_requests_jitter"]) == (50000, 5000)
    assert options["keepalive"] == 7
    assert options["graceful_timeout"] < options["timeout"]


def test_by_default_workers_are_not_recycled() -> None:
    assert gunicorn_options(Settings(workers=0), cores=4)["max_requests"] == 0  # they would lose their caches


def test_each_worker_knows_how_many_they_are_and_shares_the_cores() -> None:
    worker = worker_settings(Settings(workers=0), workers=4, cores=8)
    assert (worker.workers, worker.pixel_threads) == (4, 2)
    assert worker_settings(Settings(pixel_threads=3), workers=4, cores=8).pixel_threads == 3


def test_gunicorn_workers_cut_off_slow_headers(image_root: Path) -> None:
    """Real gunicorn workers close a connection that never finishes its headers."""
    settings = {"IIIF_HEADER_TIMEOUT": "1", "IIIF_EXTENSIONS": "none"}
    with running_server(image_root, settings, options=("--workers", "2"), timeout=60) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            start = time.monotonic()
            assert slow.recv(1) == b""
            assert time.monotonic() - start < 4
        assert "Booting worker" in server.read_log()
