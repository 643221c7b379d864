"""Gunicorn settings for `iiif-server serve --workers N` (or `gunicorn -c gunicorn.conf.py`): uvicorn workers
running the full server. Read from the same `IIIF_*` variables as the server; gunicorn's own `--workers` and
`--bind` on the command line win over these.

Workers: `IIIF_WORKERS` when set above 0, else one per CPU core (at least 2, at most 8). The usual
2 x cores + 1 is meant for workers that wait on I/O; ours are CPU-bound (libvips and ONNX Runtime keep every
core busy with their own threads) and each holds its own models and caches, so more workers than cores only
add memory and context switches. Each worker's libvips gets cores / workers threads unless
`IIIF_PIXEL_THREADS` says otherwise, so that the workers together do not oversubscribe the CPU.
"""

import os
import shutil
from pathlib import Path
from typing import Any

from iiif_server.env import env_int, env_text

cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

wsgi_app = "extensions.server:create_server_app()"
worker_class = "iiif_server.gunicorn_worker.IIIFUvicornWorker"
workers = env_int("IIIF_WORKERS", 0) or max(2, min(cores, 8))
bind = f"{env_text('IIIF_HOST', '127.0.0.1')}:{env_int('IIIF_PORT', 8000)}"
# A worker silent for this long (its event loop blocked) is killed and replaced; requests themselves are
# bounded by IIIF_REQUEST_TIMEOUT, which answers 504 long before.
timeout = env_int("IIIF_WORKER_TIMEOUT", 180)
graceful_timeout = 30  # on restart or SIGTERM, requests in flight get this long to finish
keepalive = env_int("IIIF_KEEPALIVE_TIMEOUT", 5)  # seconds an idle keep-alive connection stays open
# With IIIF_MAX_REQUESTS > 0 each worker is replaced after about that many requests (jitter so they do not
# all restart at once), bounding memory growth from libvips and ONNX Runtime arenas. Off by default: every
# cache is bounded, and a new worker starts with cold caches, reloads its models and drops its keep-alive
# connections (at 2000, workers serving cached tiles restarted every second or two; benchmarks/peers).
max_requests = env_int("IIIF_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
accesslog = None  # the app logs one line per request itself (iiif_server.access)
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # heartbeat off slow container disks

os.environ.setdefault("IIIF_PIXEL_THREADS", str(max(1, cores // max(1, workers))))


def on_starting(server: Any) -> None:
    """Set up logging for the master, tell the workers how many they are, and start multi-process metrics
    from an empty folder."""
    from iiif_server.request_log import configure_logging

    configure_logging(env_text("IIIF_LOG_FORMAT", "json").lower())
    # The real number (a `--workers` option wins over IIIF_WORKERS): /jobs needs REDIS_URL with more than one.
    os.environ["IIIF_WORKERS"] = str(server.cfg.workers)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def post_worker_init(worker: object) -> None:
    """Each worker logs as the master does (uvicorn's worker set-up may have replaced the handlers)."""
    from iiif_server.request_log import configure_logging

    configure_logging(env_text("IIIF_LOG_FORMAT", "json").lower())


def child_exit(server: object, worker: object) -> None:
    """A dead worker's live gauges leave the multi-process metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
