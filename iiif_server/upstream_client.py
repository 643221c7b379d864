"""Fetching from upstream IIIF servers: pooled async HTTP, SSRF checks on every hop, size and time limits,
retries with backoff (tenacity) and a circuit breaker per host."""

import asyncio
import logging
from email.utils import parsedate_to_datetime
from time import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from .checked_connections import CheckedAddressBackend, checked_transport
from .circuit_breaker import CircuitBreaker, CircuitOpen
from .errors import IIIFError
from .upstream_settings import UpstreamSettings
from .url_guard import check_url

log = logging.getLogger(__name__)

RETRY_STATUSES = {429, 502, 503, 504}
# What is asked for (Accept) and which Content-Type prefixes are taken, per kind of upstream resource.
KINDS = {
    "info": ("application/ld+json, application/json;q=0.9", ("application/json", "application/ld+json")),
    "image": ("image/png, image/jpeg;q=0.9, image/*;q=0.5", ("image/",)),
}
MAX_REDIRECTS = 3
MAX_RETRY_AFTER = 10.0


class UpstreamError(IIIFError):
    """An upstream failure; `transient` ones (connect errors, timeouts, 429/5xx) are retried."""

    def __init__(self, status: int, reason: str, transient: bool = False, retry_after: float | None = None):
        super().__init__(status, reason, "identifier")
        self.transient = transient
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, cap: float = MAX_RETRY_AFTER) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) in seconds, at most `cap`."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time()
        except (TypeError, ValueError):
            return None
    return min(cap, max(0.0, seconds))


class UpstreamClient:
    """GETs upstream URLs; one instance per app. The HTTP pool and per-host semaphores belong to one event
    loop and are made again when called from another (the test client may change loops)."""

    def __init__(self, settings: UpstreamSettings) -> None:
        self.settings = settings
        self.breakers: dict[str, CircuitBreaker] = {}
        self.requests: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None
        self._slots: dict[str, asyncio.Semaphore] = {}
        backoff = wait_random_exponential(multiplier=settings.backoff, max=settings.backoff * 8)
        self._backoff = backoff

    def _session(self, host: str) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
            timeout = httpx.Timeout(self.settings.timeout)
            # Every connection goes to an address checked for it (no DNS rebinding after `check`); with a
            # transport of its own, httpx also ignores HTTP(S)_PROXY, which would resolve names itself.
            transport = checked_transport(CheckedAddressBackend(self.settings.allow_private), limits)
            self._http = httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False)
            self._loop, self._slots = loop, {}
        slot = self._slots.setdefault(host, asyncio.Semaphore(self.settings.per_host_concurrency))
        return self._http, slot

    async def close(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def breaker(self, host: str) -> CircuitBreaker:
        s = self.settings
        return self.breakers.setdefault(host, CircuitBreaker(s.breaker_threshold, s.breaker_cooldown))

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        return retry_after if retry_after is not None else float(self._backoff(state))

    async def check(self, url: str) -> None:
        """The one SSRF check every upstream URL passes, redirect targets included (IIIFError 403 if not);
        each connection checks its addresses again when it opens (checked_connections.py)."""
        await check_url(url, self.settings.prefixes, self.settings.allow_private, self.settings.timeout)

    async def get(self, url: str, kind: str) -> bytes:
        """The body of `url`, an upstream `info` or `image` (checked by Content-Type); else IIIFError."""
        await self.check(url)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(max(1, self.settings.attempts)),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, UpstreamError) and e.transient),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(url, kind)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _attempt(self, url: str, kind: str) -> bytes:
        """One try, through the breaker of the URL's host."""
        host = urlsplit(url).netloc
        breaker = self.breaker(host)
        try:
            breaker.before_call()
        except CircuitOpen as open_:
            raise IIIFError(
                503,
                f"upstream is unavailable: circuit open after {open_.failures} consecutive failures, "
                f"next try in {open_.retry_after:.1f} s",
                "identifier",
            ) from open_
        try:
            body = await self._download(url, kind)
        except UpstreamError as error:
            if error.status == 404:
                breaker.succeeded()
            else:
                breaker.failed()
                log.warning("upstream %s failed (%s): %s", url, breaker.state, error.__cause__ or error)
            raise
        breaker.succeeded()
        return body

    async def _download(self, url: str, kind: str) -> bytes:
        """Follow at most MAX_REDIRECTS redirects, each target checked again; read at most `max_bytes`."""
        for _ in range(MAX_REDIRECTS + 1):
            host = urlsplit(url).netloc
            http, slot = self._session(host)
            self.requests[host] = self.requests.get(host, 0) + 1
            try:
                async with (
                    slot,
                    asyncio.timeout(self.settings.timeout),
                    http.stream("GET", url, headers={"Accept": KINDS[kind][0]}) as response,
                ):
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        await self.check(url)
                        continue
                    return await self._body(response, kind)
            except (TimeoutError, httpx.TimeoutException) as error:
                limit = self.settings.timeout
                raise UpstreamError(504, f"upstream timed out after {limit} s", True) from error
            except httpx.TransportError as error:
                raise UpstreamError(502, "upstream request failed", True) from error
        raise UpstreamError(502, f"upstream redirected more than {MAX_REDIRECTS} times")

    async def _body(self, response: httpx.Response, kind: str) -> bytes:
        """Check status, type and size of an answer and read it (no host, URL or upstream text in reasons)."""
        status = response.status_code
        if status in RETRY_STATUSES:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            reason = f"upstream answered {status}"
            raise UpstreamError(503 if status == 503 else 502, reason, True, retry_after)
        if status == 404:
            raise UpstreamError(404, "upstream has no such image")
        if status >= 400:
            raise UpstreamError(502, f"upstream answered {status}")
        content_type = response.headers.get("content-type", "")
        if not content_type.startswith(KINDS[kind][1]):
            log.warning("upstream %s sent %r where an %s was expected", response.url, content_type, kind)
            raise UpstreamError(502, f"upstream sent another content type where an {kind} was expected")
        limit = self.settings.max_bytes
        too_large = UpstreamError(502, f"upstream sent more than IIIF_UPSTREAM_MAX_BYTES={limit}")
        if int(response.headers.get("content-length") or 0) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    def stats(self) -> dict[str, Any]:
        """Requests sent and breaker state per upstream host."""
        return {
            host: {"requests": count, "breaker": self.breaker(host).state}
            for host, count in sorted(self.requests.items())
        }
