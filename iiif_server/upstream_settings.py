"""Settings of remote IIIF sources, read from `IIIF_UPSTREAM*` environment variables (see the README)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


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
        defaults, env = cls(), os.environ.get
        hosts = {h.strip().lower() for h in (env("IIIF_UPSTREAM_ALLOWED_HOSTS") or "").split(",")} - {""}
        return cls(
            upstreams=parse_upstreams(env("IIIF_UPSTREAMS") or ""),
            allowed_hosts=frozenset(hosts),
            allow_private=(env("IIIF_UPSTREAM_ALLOW_PRIVATE") or "").lower() in {"1", "true", "yes", "on"},
            timeout=float(env("IIIF_UPSTREAM_TIMEOUT") or defaults.timeout),
            max_bytes=int(env("IIIF_UPSTREAM_MAX_BYTES") or defaults.max_bytes),
            per_host_concurrency=int(env("IIIF_UPSTREAM_CONCURRENCY") or defaults.per_host_concurrency),
            attempts=int(env("IIIF_UPSTREAM_ATTEMPTS") or defaults.attempts),
            backoff=float(env("IIIF_UPSTREAM_BACKOFF") or defaults.backoff),
            breaker_threshold=int(env("IIIF_UPSTREAM_BREAKER_THRESHOLD") or defaults.breaker_threshold),
            breaker_cooldown=float(env("IIIF_UPSTREAM_BREAKER_COOLDOWN") or defaults.breaker_cooldown),
        )
