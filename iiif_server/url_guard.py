"""SSRF guard for upstream URLs: http(s) only, allow-listed hosts, no private addresses unless allowed."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from .errors import IIIFError


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Exact host names, or `*.example.org` for its sub-domains."""
    return host in allowed or any(a.startswith("*.") and host.endswith(a[1:]) for a in allowed)


async def check_url(url: str, allowed: frozenset[str], allow_private: bool) -> None:
    """Raise IIIFError 403 unless `url` may be fetched; every address the host resolves to is checked."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise IIIFError(403, f"upstream URL {url!r} is not http(s)", "identifier")
    if not host_allowed(host, allowed):
        raise IIIFError(403, f"upstream host {host!r} is not in IIIF_UPSTREAM_ALLOWED_HOSTS", "identifier")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as error:
        raise IIIFError(502, f"upstream host {host!r} cannot be resolved: {error}", "identifier") from error
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global and not allow_private:
            raise IIIFError(
                403,
                f"upstream host {host!r} resolves to the non-public address {ip} "
                "(IIIF_UPSTREAM_ALLOW_PRIVATE is off)",
                "identifier",
            )
