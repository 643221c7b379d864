"""`iiif-server serve --workers N` runs gunicorn with gunicorn.conf.py; the config reads IIIF_* settings."""

import runpy
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
    assert "uvicorn_worker.UvicornWorker" in argv


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
    assert config["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert (config["max_requests"], config["max_requests_jitter"]) == (50000, 5000)
    assert config["graceful_timeout"] < config["timeout"]


def test_by_default_one_worker_per_core_from_2_to_8(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IIIF_WORKERS", raising=False)
    monkeypatch.delenv("IIIF_MAX_REQUESTS", raising=False)
    monkeypatch.setenv("IIIF_PIXEL_THREADS", "2")
    config = runpy.run_path(str(CONF))
    assert config["workers"] == max(2, min(config["cores"], 8))
    assert config["max_requests"] == 0  # workers are not recycled: they would lose their caches
