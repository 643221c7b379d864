"""Upstream connections open only to addresses that pass the SSRF rule: every connection the pool opens
resolves its host once, checks each address (`url_guard.checked_addresses`) and connects to a checked one,
so a DNS answer that changes after `check_url` (DNS rebinding) cannot reach an internal address."""

import contextlib
from collections.abc import Iterable

import httpcore
import httpx

from .url_guard import checked_addresses


class CheckedAddressBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend around `inner` (anyio by default) that connects to checked IP addresses;
    a refused host raises the guard's IIIFError 403. TLS still sends and verifies the host name (httpcore
    passes the origin's host to `start_tls`)."""

    def __init__(self, allow_private: bool, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.allow_private = allow_private
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first of `host`'s checked addresses that answers (resolution bounded by `timeout`,
        the connect timeout httpcore passes: the upstream timeout)."""
        *others, last = await checked_addresses(host, port, self.allow_private, timeout)
        for address in others:
            with contextlib.suppress(httpcore.ConnectError):
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
        return await self.inner.connect_tcp(last, port, timeout, local_address, socket_options)

    async def sleep(self, seconds: float) -> None:
        """The pause between httpcore's connect retries, as `inner` takes it."""
        await self.inner.sleep(seconds)


def checked_transport(backend: CheckedAddressBackend, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose connection pool opens every connection through `backend`."""
    transport = httpx.AsyncHTTPTransport(limits=limits)
    # httpx 0.29 takes no network backend, so the transport's private `_pool` is replaced by the same
    # httpcore pool (same limits, default TLS context) built with one; loudly, should httpx rename it.
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        raise RuntimeError("httpx.AsyncHTTPTransport has no httpcore pool `_pool` to replace")
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=backend,
    )
    return transport
