"""`iiif-server serve --workers N` runs gunicorn with gunicorn.conf.py; the config reads IIIF_* settings."""

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from iiif_server import cli

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


class Exec(Exception):
    """Stands for `os.execvp`, which never returns."""


def gunicorn_argv(monkeypatch: pytest.MonkeyPatch, *args: str) -> list[str]:
    def execvp(_file: str, argv: list[str]) -> None:
        raise Exec(argv)

    monkeypatch.setattr(cli.os, "execvp", execvp)
    with pytest.raises(Exec) as called:
        cli.main(["serve", *args])
    return called.value.args[0]


def test_several_workers_run_gunicorn_with_the_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = gunicorn_argv(monkeypatch, "--workers", "3", "--port", "9001", "--host", "0.0.0.0")
    assert argv[argv.index("-c") + 1] == str(CONF)
    assert argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--bind") + 1] == "0.0.0.0:9001"
    assert "iiif_server.gunicorn_worker.IIIFUvicornWorker" in argv


def test_zero_workers_leaves_the_count_to_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "--workers" not in gunicorn_argv(monkeypatch, "--workers", "0")


def test_the_config_reads_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IIIF_WORKERS", "5")
    monkeypatch.setenv("IIIF_HOST", "0.0.0.0")
    monkeypatch.setenv("IIIF_PORT", "8080")
    monkeypatch.setenv("IIIF_PIXEL_THREADS", "2")
    monkeypatch.setenv("IIIF_MAX_REQUESTS", "50000")
    config = runpy.run_path(str(CONF))
    assert config["workers"] == 5
    assert config["bind"] == "0.0.0.0:8080"
    assert config["worker_class"] == "iiif_server.gunicorn_worker.IIIFUvicornWorker"
    assert (config["max_requests"], config["max_requests_jitter"]) == (50000, 5000)
    assert config["graceful_timeout"] < config["timeout"]


def test_by_default_one_worker_per_core_from_2_to_8(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IIIF_WORKERS", raising=False)
    monkeypatch.delenv("IIIF_MAX_REQUESTS", raising=False)
    monkeypatch.setenv("IIIF_PIXEL_THREADS", "2")
    config = runpy.run_path(str(CONF))
    assert config["workers"] == max(2, min(config["cores"], 8))
    assert config["max_requests"] == 0  # workers are not recycled: they would lose their caches


def test_the_config_reads_the_keep_alive_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IIIF_KEEPALIVE_TIMEOUT", "7")
    monkeypatch.setenv("IIIF_PIXEL_THREADS", "2")
    assert runpy.run_path(str(CONF))["keepalive"] == 7


def test_gunicorn_workers_cut_off_slow_headers(image_root: Path, tmp_path: Path) -> None:
    """Real gunicorn with the config's worker class closes a connection that never finishes its headers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "IIIF_HEADER_TIMEOUT": "1",
        "IIIF_EXTENSIONS": "none",
        "IIIF_IMAGE_ROOT": str(image_root),
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(CONF), "extensions.server:create_server_app()"]
    command += ["--workers", "1", "--bind", f"127.0.0.1:{port}"]
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(command, env=env, cwd=CONF.parent, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    assert answer.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "gunicorn did not start"
                time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            start = time.monotonic()
            assert slow.recv(1) == b""
            assert time.monotonic() - start < 4
    finally:
        server.terminate()
        server.wait(timeout=30)
