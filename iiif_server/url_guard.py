"""SSRF guard for upstream URLs: only URLs under a configured prefix (scheme, host, port and path), without
dot segments, and no private addresses unless allowed (`checked_addresses`, the rule that connections obey
too: see checked_connections.py). Refusals say nothing about the URL or the network."""

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx

from .errors import IIIFError

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443}
# Control characters, spaces and backslashes: parsers disagree on them, and no upstream URL needs them.
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f\\]")
NOT_ALLOWED = "upstream URL is not under a configured upstream (IIIF_UPSTREAMS, IIIF_UPSTREAM_ALLOWED_HOSTS)"
NON_PUBLIC = "upstream host resolves to a non-public address (IIIF_UPSTREAM_ALLOW_PRIVATE is off)"


@dataclass(frozen=True)
class UpstreamPrefix:
    """Where upstream URLs may point: a scheme (None: http or https), a host (`*.example.org`: its
    sub-domains), a port (None: the scheme's default) and a percent-decoded path prefix ending in `/`."""

    scheme: str | None
    host: str
    port: int | None
    path: str = "/"

    @classmethod
    def parse(cls, text: str) -> "UpstreamPrefix":
        """`https://host:8443/iiif/`, `host`, `host:8080` or `*.example.org`; ValueError for anything else."""
        parts = urlsplit(text if "://" in text else f"//{text}")
        try:
            port = parts.port
        except ValueError as error:
            raise ValueError(f"bad port in upstream {text!r}") from error
        scheme = parts.scheme.lower() or None
        if scheme not in (None, *DEFAULT_PORTS) or not parts.hostname or "@" in parts.netloc:
            raise ValueError(f"expected [http(s)://]host[:port][/path/], got {text!r}")
        if parts.query or parts.fragment or dot_segments(parts.path) or UNSAFE_CHARACTERS.search(text):
            raise ValueError(f"upstream {text!r} may not have a query, fragment, dot segments or spaces")
        return cls(scheme, parts.hostname, port, fully_unquoted(parts.path).rstrip("/") + "/")

    def covers(self, scheme: str, host: str, port: int, path: str) -> bool:
        """Whether a URL's scheme, host, effective port and percent-decoded path fall under this prefix."""
        wildcard = self.host.startswith("*.") and host.endswith(self.host[1:])
        return (
            self.scheme in (None, scheme)
            and port == (self.port or DEFAULT_PORTS[scheme])
            and (host == self.host or wildcard)
            and path.startswith(self.path)
        )


def fully_unquoted(path: str) -> str:
    """`path` percent-decoded until nothing changes, so `%252E` counts as the `.` it may become (each round
    that changes it shortens it, so this ends)."""
    while (decoded := unquote(path)) != path:
        path = decoded
    return path


def dot_segments(path: str) -> bool:
    """Whether `path`, however often percent-decoded, has a `.` or `..` segment."""
    return any(segment in (".", "..") for segment in fully_unquoted(path).split("/"))


def split_url(url: str) -> tuple[str, str, int, str] | None:
    """Scheme, host, effective port and raw path of an http(s) URL without user info or unsafe characters,
    when httpx reads the same scheme, host and port from it; else None."""
    if UNSAFE_CHARACTERS.search(url):
        return None
    try:
        parts, seen = urlsplit(url), httpx.URL(url)
        scheme, host, port = parts.scheme, parts.hostname or "", parts.port
    except (ValueError, httpx.InvalidURL):
        return None
    if scheme not in DEFAULT_PORTS or not host or "@" in parts.netloc:
        return None
    port = port or DEFAULT_PORTS[scheme]
    if (seen.scheme, seen.raw_host, seen.port or DEFAULT_PORTS[scheme]) != (scheme, host.encode(), port):
        return None
    return scheme, host, port, parts.path or "/"


def allowed_target(url: str, prefixes: Iterable[UpstreamPrefix]) -> tuple[str, int] | None:
    """The host and effective port `url` connects to, when its scheme, host, port and path fall under one
    of `prefixes` and its path has no dot segments; else None."""
    split = split_url(url)
    if split is None:
        return None
    scheme, host, port, path = split
    path = fully_unquoted(path)
    if dot_segments(path) or not any(p.covers(scheme, host, port, path) for p in prefixes):
        return None
    return host, port


async def check_url(
    url: str, prefixes: Iterable[UpstreamPrefix], allow_private: bool, timeout: float | None
) -> None:
    """Raise IIIFError 403 unless `url` may be fetched; every address its host resolves to is checked."""
    target = allowed_target(url, prefixes)
    if target is None:
        log.info("refused upstream URL %r", url)
        raise IIIFError(403, NOT_ALLOWED, "identifier")
    await checked_addresses(*target, allow_private, timeout)


async def checked_addresses(host: str, port: int, allow_private: bool, timeout: float | None) -> list[str]:
    """The addresses `host` resolves to, off the event loop and within `timeout` seconds, in order and without
    repeats: IIIFError 502 if it cannot be resolved, 403 if one is not public while `allow_private` is off."""
    try:
        async with asyncio.timeout(timeout):
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:  # a TimeoutError is an OSError
        log.warning("upstream host %r cannot be resolved: %r", host, error)
        raise IIIFError(502, "upstream host cannot be resolved", "identifier") from error
    addresses = list(dict.fromkeys(str(address[0]) for *_, address in found))
    for address in addresses:
        ip = ipaddress.ip_address(address.partition("%")[0])  # without an IPv6 scope
        if not ip.is_global and not allow_private:
            log.warning("upstream host %r resolves to the non-public address %s", host, ip)
            raise IIIFError(403, NON_PUBLIC, "identifier")
    return addresses
