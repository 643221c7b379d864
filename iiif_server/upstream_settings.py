"""Settings of remote IIIF sources, read from `IIIF_UPSTREAM*` environment variables (see the README)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .env import env_flag, env_float, env_int, env_text


def parse_upstreams(text: str) -> dict[str, str]:
    """`loc=https://…/iiif/,ex=http://…/iiif/3/` as {prefix: base URL ending in `/`}."""
    upstreams = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        prefix, _, url = entry.partition("=")
        if not prefix.strip() or urlsplit(url.strip()).scheme not in ("http", "https"):
            raise ValueError(f"IIIF_UPSTREAMS: expected prefix=http(s)://…, got {entry!r}")
        upstreams[prefix.strip()] = url.strip().rstrip("/") + "/"
    return upstreams


@dataclass(frozen=True)
class UpstreamSettings:
    """Where remote images may come from, and how hard the server tries to get them."""

    upstreams: Mapping[str, str] = field(default_factory=dict)
    allowed_hosts: frozenset[str] = frozenset()
    allow_private: bool = False
    timeout: float = 10.0
    max_bytes: int = 50_000_000
    per_host_concurrency: int = 8
    attempts: int = 3
    backoff: float = 0.5
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0

    @property
    def hosts(self) -> frozenset[str]:
        """The allow-list: `allowed_hosts` plus the hosts of the configured prefixes."""
        configured = {urlsplit(url).hostname or "" for url in self.upstreams.values()}
        return frozenset(h.lower() for h in self.allowed_hosts | configured if h)

    @classmethod
    def from_env(cls) -> "UpstreamSettings":
        """Read `IIIF_UPSTREAMS`, `IIIF_UPSTREAM_ALLOWED_HOSTS`, `IIIF_UPSTREAM_ALLOW_PRIVATE`, … ."""
        defaults = cls()
        hosts = {h.strip().lower() for h in env_text("IIIF_UPSTREAM_ALLOWED_HOSTS").split(",")} - {""}
        return cls(
            upstreams=parse_upstreams(env_text("IIIF_UPSTREAMS")),
            allowed_hosts=frozenset(hosts),
            allow_private=env_flag("IIIF_UPSTREAM_ALLOW_PRIVATE", defaults.allow_private),
            timeout=env_float("IIIF_UPSTREAM_TIMEOUT", defaults.timeout),
            max_bytes=env_int("IIIF_UPSTREAM_MAX_BYTES", defaults.max_bytes),
            per_host_concurrency=env_int("IIIF_UPSTREAM_CONCURRENCY", defaults.per_host_concurrency),
            attempts=env_int("IIIF_UPSTREAM_ATTEMPTS", defaults.attempts),
            backoff=env_float("IIIF_UPSTREAM_BACKOFF", defaults.backoff),
            breaker_threshold=env_int("IIIF_UPSTREAM_BREAKER_THRESHOLD", defaults.breaker_threshold),
            breaker_cooldown=env_float("IIIF_UPSTREAM_BREAKER_COOLDOWN", defaults.breaker_cooldown),
        )
