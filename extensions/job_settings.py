"""Settings of whole-document jobs, read from `IIIF_JOBS_*` and `REDIS_URL` (see the README)."""

from dataclasses import dataclass

from iiif_server.env import env_float, env_int, env_text

BACKENDS = ("inprocess", "rq")


@dataclass(frozen=True)
class JobSettings:
    """Which queue runs the pages, and the limits of the in-process one."""

    backend: str = "inprocess"
    redis_url: str | None = None
    queue: str = "iiif-jobs"
    result_ttl: float = 86400
    threads: int = 1
    queue_size: int = 1000
    max_pages: int = 500
    max_upload_bytes: int = 100_000_000
    page_timeout: int = 600

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ValueError(f"IIIF_JOBS_BACKEND must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.backend == "rq" and not self.redis_url:
            raise ValueError("IIIF_JOBS_BACKEND=rq needs REDIS_URL")

    @classmethod
    def from_env(cls) -> "JobSettings":
        """Read `IIIF_JOBS_BACKEND`, `IIIF_JOBS_QUEUE`, `IIIF_JOBS_RESULT_TTL`, ... and `REDIS_URL`."""
        defaults = cls()
        return cls(
            backend=env_text("IIIF_JOBS_BACKEND", defaults.backend).lower(),
            redis_url=env_text("REDIS_URL") or None,
            queue=env_text("IIIF_JOBS_QUEUE", defaults.queue),
            result_ttl=env_float("IIIF_JOBS_RESULT_TTL", defaults.result_ttl),
            threads=env_int("IIIF_JOBS_THREADS", defaults.threads),
            queue_size=env_int("IIIF_JOBS_QUEUE_SIZE", defaults.queue_size),
            max_pages=env_int("IIIF_JOBS_MAX_PAGES", defaults.max_pages),
            max_upload_bytes=env_int("IIIF_JOBS_MAX_UPLOAD_MB", defaults.max_upload_bytes // 1_000_000)
            * 1_000_000,
            page_timeout=env_int("IIIF_JOBS_PAGE_TIMEOUT", defaults.page_timeout),
        )
