"""Settings of whole-document jobs: the `IIIF_JOBS_*` variables and `REDIS_URL` (see the README)."""

from dataclasses import dataclass

from iiif_server.env import Env

BACKENDS = ("inprocess", "rq")


@dataclass(frozen=True)
class JobSettings:
    """Which queue runs the pages, the limits of the in-process one, and how interrupted pages come back:
    a page's reader holds a lease of `lease` seconds, renewed while it reads; a page whose lease ran out is
    read again, `max_attempts` times in all. Workers retry an unreachable store for `store_retry` seconds."""

    backend: str = "inprocess"
    redis_url: str | None = None
    queue: str = "iiif-jobs"
    result_ttl: float = 86400
    threads: int = 1
    queue_size: int = 1000
    max_pages: int = 500
    max_upload_bytes: int = 100_000_000
    page_timeout: int = 600
    lease: float = 30
    max_attempts: int = 3
    store_retry: float = 300
    store_retry_wait: float = 5  # longest pause between two tries of an unreachable store
    server_processes: int = 1  # the server's processes: its IIIF_WORKERS, given by `extensions.server`

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"IIIF_JOBS_BACKEND must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.backend == "rq" and not self.redis_url:
            raise ValueError("IIIF_JOBS_BACKEND=rq needs REDIS_URL")
        if self.lease <= 0 or self.max_attempts < 1:
            raise ValueError("IIIF_JOBS_LEASE must be above 0 and IIIF_JOBS_MAX_ATTEMPTS at least 1")

    @property
    def unshared_reason(self) -> str | None:
        """Why jobs cannot work here: several server processes, each with its own jobs in memory."""
        if self.server_processes == 1 or self.redis_url:
            return None
        return (
            "jobs need REDIS_URL when the server runs several processes (IIIF_WORKERS): without it each "
            "process keeps its own jobs, and another process would not know them"
        )

    @classmethod
    def read(cls, env: Env) -> "JobSettings":
        """Read `IIIF_JOBS_BACKEND`, `IIIF_JOBS_QUEUE`, `IIIF_JOBS_RESULT_TTL`, ... and `REDIS_URL`."""
        defaults = cls()
        return cls(
            backend=env.text("IIIF_JOBS_BACKEND", defaults.backend).lower(),
            redis_url=env.text("REDIS_URL") or None,
            queue=env.text("IIIF_JOBS_QUEUE", defaults.queue),
            result_ttl=env.decimal("IIIF_JOBS_RESULT_TTL", defaults.result_ttl),
            threads=env.integer("IIIF_JOBS_THREADS", defaults.threads),
            queue_size=env.integer("IIIF_JOBS_QUEUE_SIZE", defaults.queue_size),
            max_pages=env.integer("IIIF_JOBS_MAX_PAGES", defaults.max_pages),
            max_upload_bytes=env.integer("IIIF_JOBS_MAX_UPLOAD_MB", defaults.max_upload_bytes // 1_000_000)
            * 1_000_000,
            page_timeout=env.integer("IIIF_JOBS_PAGE_TIMEOUT", defaults.page_timeout),
            lease=env.decimal("IIIF_JOBS_LEASE", defaults.lease),
            max_attempts=env.integer("IIIF_JOBS_MAX_ATTEMPTS", defaults.max_attempts),
            store_retry=env.decimal("IIIF_JOBS_STORE_RETRY", defaults.store_retry),
        )
