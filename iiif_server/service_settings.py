"""Settings of the production service: processes, load, time limits, logs, metrics and access control."""

import re
from dataclasses import dataclass

from .env import Env

PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_digests(text: str) -> frozenset[str]:
    """`IIIF_TOKENS`: comma-separated SHA-256 hex digests of the tokens (never the tokens themselves)."""
    digests = frozenset(item.lower() for item in _items(text))
    bad = [d for d in digests if not DIGEST.match(d)]
    if bad:
        raise ValueError(f"IIIF_TOKENS holds {len(bad)} entries that are not SHA-256 hex digests")
    return digests


def parse_scopes(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`IIIF_TOKEN_SCOPES`: `digest=prefix|prefix,digest=prefix`: the identifier prefixes a token may read."""
    scopes: dict[str, tuple[str, ...]] = {}
    for item in _items(text):
        digest, _, prefixes = item.partition("=")
        digest = digest.strip().lower()
        if not DIGEST.match(digest):
            raise ValueError(f"IIIF_TOKEN_SCOPES: {digest[:12]!r}... is not a SHA-256 hex digest")
        scopes[digest] = tuple(p.strip() for p in prefixes.split("|") if p.strip())
    return tuple(scopes.items())


def parse_groups(text: str) -> frozenset[str]:
    """`IIIF_PROTECT`: the groups of endpoints that need a token, lower case (checked against the groups the
    loaded extensions declare when the app is built: `RouteTable.check_groups`)."""
    return frozenset(item.lower() for item in _items(text))


def parse_rate(text: str) -> tuple[int, float] | None:
    """`IIIF_RATE_LIMIT` like `60/minute` as (requests, seconds); blank or `0` for none."""
    if not text or text == "0":
        return None
    count, _, period = text.partition("/")
    seconds = PERIODS.get(period.strip().lower().rstrip("s") or "second")
    if seconds is None or not count.strip().isdigit() or int(count) <= 0:
        raise ValueError(f"IIIF_RATE_LIMIT={text!r}: expected N/second, N/minute, N/hour or N/day")
    return int(count), seconds


@dataclass(frozen=True)
class ServiceSettings:
    """How much work is taken at once, how long a request may take, how it is logged and measured, and who
    may ask for what."""

    max_in_flight: int = 64
    request_timeout: float = 120.0
    header_timeout: float = 10.0
    keepalive_timeout: int = 5
    worker_timeout: int = 180  # gunicorn: a worker silent this long (event loop blocked) is replaced
    max_requests: int = 0  # gunicorn: requests after which a worker is replaced; 0: never
    log_format: str = "json"
    metrics_dir: str | None = None  # PROMETHEUS_MULTIPROC_DIR: where several workers' metrics are summed
    tokens: frozenset[str] = frozenset()
    protect: frozenset[str] = frozenset()
    rate_limit: tuple[int, float] | None = None
    token_scopes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (digest, prefixes): a hashable mapping
    private_prefixes: tuple[str, ...] = ()

    @property
    def known_digests(self) -> frozenset[str]:
        """Every accepted token digest: those of `IIIF_TOKENS` and those given scopes."""
        return self.tokens | frozenset(digest for digest, _ in self.token_scopes)

    def scope_of(self, digest: str) -> tuple[str, ...] | None:
        """The identifier prefixes a token may read; None when it is not restricted."""
        return dict(self.token_scopes).get(digest)

    @classmethod
    def read(cls, env: Env) -> "ServiceSettings":
        """Read `IIIF_MAX_IN_FLIGHT`, `IIIF_REQUEST_TIMEOUT`, `IIIF_LOG_FORMAT`, `IIIF_TOKENS`, ... ."""
        defaults = cls()
        log_format = env.text("IIIF_LOG_FORMAT", defaults.log_format).lower()
        if log_format not in ("json", "text"):
            raise ValueError(f"IIIF_LOG_FORMAT={log_format!r}: expected json or text")
        return cls(
            max_in_flight=env.integer("IIIF_MAX_IN_FLIGHT", defaults.max_in_flight),
            request_timeout=env.decimal("IIIF_REQUEST_TIMEOUT", defaults.request_timeout),
            header_timeout=env.decimal("IIIF_HEADER_TIMEOUT", defaults.header_timeout),
            keepalive_timeout=env.integer("IIIF_KEEPALIVE_TIMEOUT", defaults.keepalive_timeout),
            worker_timeout=env.integer("IIIF_WORKER_TIMEOUT", defaults.worker_timeout),
            max_requests=env.integer("IIIF_MAX_REQUESTS", defaults.max_requests),
            log_format=log_format,
            metrics_dir=env.text("PROMETHEUS_MULTIPROC_DIR") or None,
            tokens=parse_digests(env.text("IIIF_TOKENS")),
            protect=parse_groups(env.text("IIIF_PROTECT")),
            rate_limit=parse_rate(env.text("IIIF_RATE_LIMIT")),
            token_scopes=parse_scopes(env.text("IIIF_TOKEN_SCOPES")),
            private_prefixes=env.items("IIIF_PRIVATE_PREFIXES"),
        )
