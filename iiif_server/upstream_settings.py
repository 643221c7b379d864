"""Settings of remote IIIF sources: the `IIIF_UPSTREAM*` variables (see the README)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from .env import Env
from .url_guard import UpstreamPrefix


def parse_upstreams(text: str) -> dict[str, str]:
    """`loc=https://…/iiif/,ex=http://…/iiif/3/` as {prefix: base URL ending in `/`}."""
    upstreams = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        prefix, _, url = (part.strip() for part in entry.partition("="))
        if not prefix or not url.startswith(("http://", "https://")):
            raise ValueError(f"IIIF_UPSTREAMS: expected prefix=http(s)://…, got {entry!r}")
        UpstreamPrefix.parse(url)  # ValueError for a query, dot segments, a bad port, …
        upstreams[prefix] = url.rstrip("/") + "/"
    return upstreams


def parse_allowed_hosts(text: str) -> tuple[UpstreamPrefix, ...]:
    """`images.example.org, *.example.net, https://iiif.example.com:8443/iiif/` as prefixes."""
    try:
        return tuple(UpstreamPrefix.parse(entry.strip()) for entry in text.split(",") if entry.strip())
    except ValueError as error:
        raise ValueError(f"IIIF_UPSTREAM_ALLOWED_HOSTS: {error}") from error


@dataclass(frozen=True)
class UpstreamSettings:
    """Where remote images may come from, and how hard the server tries to get them."""

    upstreams: Mapping[str, str] = field(default_factory=dict)
    allowed_hosts: tuple[UpstreamPrefix, ...] = ()
    allow_private: bool = False
    timeout: float = 10.0
    max_bytes: int = 50_000_000
    per_host_concurrency: int = 8
    attempts: int = 3
    backoff: float = 0.5
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0

    @cached_property
    def prefixes(self) -> tuple[UpstreamPrefix, ...]:
        """The allow-list: the configured upstreams, then `allowed_hosts`."""
        return (*(UpstreamPrefix.parse(url) for url in self.upstreams.values()), *self.allowed_hosts)

    @classmethod
    def read(cls, env: Env) -> "UpstreamSettings":
        """Read `IIIF_UPSTREAMS`, `IIIF_UPSTREAM_ALLOWED_HOSTS`, `IIIF_UPSTREAM_ALLOW_PRIVATE`, … ."""
        defaults = cls()
        return cls(
            upstreams=parse_upstreams(env.text("IIIF_UPSTREAMS")),
            allowed_hosts=parse_allowed_hosts(env.text("IIIF_UPSTREAM_ALLOWED_HOSTS")),
            allow_private=env.flag("IIIF_UPSTREAM_ALLOW_PRIVATE", defaults.allow_private),
            timeout=env.decimal("IIIF_UPSTREAM_TIMEOUT", defaults.timeout),
            max_bytes=env.integer("IIIF_UPSTREAM_MAX_BYTES", defaults.max_bytes),
            per_host_concurrency=env.integer("IIIF_UPSTREAM_CONCURRENCY", defaults.per_host_concurrency),
            attempts=env.integer("IIIF_UPSTREAM_ATTEMPTS", defaults.attempts),
            backoff=env.decimal("IIIF_UPSTREAM_BACKOFF", defaults.backoff),
            breaker_threshold=env.integer("IIIF_UPSTREAM_BREAKER_THRESHOLD", defaults.breaker_threshold),
            breaker_cooldown=env.decimal("IIIF_UPSTREAM_BREAKER_COOLDOWN", defaults.breaker_cooldown),
        )
