"""Several server processes: gunicorn with uvicorn workers, configured from the settings object (no config
file, and no environment variable written for the workers, which inherit the settings through the fork).

Workers: `IIIF_WORKERS` when above 0, else one per CPU core (at least 2, at most 8). The usual 2 x cores + 1
is meant for workers that wait on I/O; ours are CPU-bound (libvips and ONNX Runtime keep every core busy with
their own threads) and each holds its own models and caches, so more workers than cores only add memory and
context switches. Each worker's libvips gets cores / workers threads unless `IIIF_PIXEL_THREADS` says
otherwise, so that the workers together do not oversubscribe the CPU.
"""

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from starlette.types import ASGIApp

from .request_log import configure_logging
from .settings import Settings

WORKER_CLASS = "iiif_server.gunicorn_worker.IIIFUvicornWorker"
GRACEFUL_TIMEOUT = 30  # on restart or SIGTERM, requests in flight get this long to finish
SHARED_MEMORY = Path("/dev/shm")  # the workers' heartbeat files, off slow container disks


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_count(workers: int, cores: int) -> int:
    """`IIIF_WORKERS`, or for 0 one worker per core, from 2 to 8."""
    return workers if workers > 0 else max(2, min(cores, 8))


def worker_settings(settings: Settings, workers: int, cores: int) -> Settings:
    """The settings of one worker: the real number of processes (in-memory jobs need it), and its share of
    the cores for libvips unless IIIF_PIXEL_THREADS is set."""
    pixel_threads = settings.pixel_threads or max(1, cores // workers)
    return replace(settings, workers=workers, pixel_threads=pixel_threads)


def gunicorn_options(settings: Settings, cores: int) -> dict[str, Any]:
    """gunicorn's own settings, from ours."""
    service = settings.service
    options: dict[str, Any] = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": worker_count(settings.workers, cores),
        "worker_class": WORKER_CLASS,
        # A worker silent this long (its event loop blocked) is replaced; requests themselves are bounded by
        # IIIF_REQUEST_TIMEOUT, which answers 504 long before.
        "timeout": service.worker_timeout,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": service.keepalive_timeout,
        # Off by default: every cache is bounded, and a new worker starts with cold caches, reloads its models
        # and drops its keep-alive connections (at 2000, workers serving cached tiles restarted every second
        # or two; benchmarks/peers). Jitter, so that workers do not all restart at once.
        "max_requests": service.max_requests,
        "max_requests_jitter": service.max_requests // 10,
        "accesslog": None,  # the app logs one line per request itself (iiif_server.access)
    }
    if SHARED_MEMORY.is_dir():
        options["worker_tmp_dir"] = str(SHARED_MEMORY)
    return options


class GunicornServer(BaseApplication):
    """gunicorn's master on `settings`; each worker, once forked, builds its app with `build`."""

    def __init__(self, settings: Settings, build: Callable[[Settings], ASGIApp]) -> None:
        self.settings = settings
        self.build = build
        self.cores = available_cores()
        super().__init__()

    def load_config(self) -> None:
        """gunicorn's settings and hooks (called by gunicorn, at start and on reload)."""
        options = gunicorn_options(self.settings, self.cores)
        hooks = {
            "on_starting": self.on_starting,
            "post_worker_init": self.post_worker_init,
            "child_exit": self.child_exit,
        }
        for name, value in {**options, **hooks}.items():
            self.cfg.set(name, value)

    def load(self) -> ASGIApp:
        """The app of one worker, built in that worker."""
        return self.build(worker_settings(self.settings, self.cfg.workers, self.cores))

    def on_starting(self, server: object) -> None:
        """The master logs as the workers do; multi-process metrics start from an empty folder."""
        configure_logging(self.settings.service.log_format)
        folder = self.settings.service.metrics_dir
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
            Path(folder).mkdir(parents=True, exist_ok=True)

    def post_worker_init(self, worker: object) -> None:
        """Each worker logs as the master does (uvicorn's worker set-up may have replaced the handlers)."""
        configure_logging(self.settings.service.log_format)

    def child_exit(self, server: object, worker: Any) -> None:
        """A dead worker's live gauges leave the multi-process metrics."""
        if self.settings.service.metrics_dir:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)
