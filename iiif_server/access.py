"""Access control at the door: who the client is, bearer tokens for the costly groups of endpoints, and a
per-client rate limit on those groups.

Tokens are configured as SHA-256 hex digests (`IIIF_TOKENS`) and compared with `hmac.compare_digest`. The
middleware keeps the client's principal in the ASGI scope; whether it may read a private identifier is
decided where the identifier is resolved to an image (`ImageAccess.authorize`, `access_policy.py`). This is
not the IIIF Authorization Flow 2.0: there are no probe, access or token services.
"""

import hashlib
import hmac
import math
import time
from collections.abc import Callable

from cachetools import TTLCache
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .access_policy import ANONYMOUS, PRINCIPAL_KEY, Principal, require_token
from .asgi_errors import send_error
from .errors import IIIFError
from .metrics import REJECTED
from .route_table import RouteTable
from .service_settings import ServiceSettings

MAX_CLIENTS = 100_000


def token_digest(token: str) -> str:
    """The SHA-256 hex digest of a token: what `IIIF_TOKENS` holds."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenBucket:
    """`rate` requests per `period` seconds per client, in bursts of up to `rate`; clients idle for a whole
    period are forgotten (their bucket would be full again anyway)."""

    def __init__(self, rate: int, period: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = (rate, period)
        self.capacity, self.per_second, self.clock = float(rate), rate / period, clock
        self.buckets: TTLCache[str, tuple[float, float]] = TTLCache(MAX_CLIENTS, period, timer=clock)

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, last = self.buckets.get(client, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.per_second)
        if tokens < 1.0:
            self.buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.per_second
        self.buckets[client] = (tokens - 1.0, now)
        return 0.0


class AccessControl:
    """Works out the client's principal, checks protected groups and the rate limit before the app runs."""

    def __init__(
        self, app: ASGIApp, routes: RouteTable, settings: ServiceSettings, trust_forwarded: bool = False
    ) -> None:
        self.app = app
        self.routes = routes
        self.settings = settings
        self.digests = sorted(settings.known_digests)
        self.trust_forwarded = trust_forwarded
        rate = settings.rate_limit
        self.bucket = TokenBucket(*rate) if rate else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "OPTIONS":
            try:
                self.check(scope)
            except IIIFError as error:
                await send_error(error, scope, receive, send)
                return
        await self.app(scope, receive, send)

    def check(self, scope: Scope) -> None:
        """Keep the principal in the scope; raise IIIFError 401 or 429 when the request may not go ahead."""
        group = self.routes.label(scope).group
        headers = Headers(scope=scope)
        principal = scope[PRINCIPAL_KEY] = self.principal(headers)
        if group in self.settings.protect:
            require_token(principal, f"the {group} endpoints need a bearer token")
        if group is not None and self.bucket is not None:
            wait = self.bucket.take(principal.digest or self.client_address(scope, headers))
            if wait > 0:
                REJECTED.labels("rate_limit").inc()
                count, period = self.bucket.rate
                reason = f"rate limit of {count} requests per {period:g} s reached (IIIF_RATE_LIMIT)"
                raise IIIFError(429, reason, None, {"Retry-After": str(max(1, math.ceil(wait)))})

    def principal(self, headers: Headers) -> Principal:
        """The digest of the request's bearer token when it is a known one, and whether one was sent."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return ANONYMOUS
        digest = token_digest(token.strip())
        known = False
        for candidate in self.digests:  # every digest compared, each in constant time
            known |= hmac.compare_digest(candidate, digest)
        return Principal(digest if known else None, presented=True)

    def client_address(self, scope: Scope, headers: Headers) -> str:
        """The client's IP: the first `X-Forwarded-For` address behind a trusted proxy, else the peer's."""
        forwarded = headers.get("x-forwarded-for", "") if self.trust_forwarded else ""
        if forwarded.strip():
            return forwarded.split(",")[0].strip()
        client = scope.get("client")
        return client[0] if client else "unknown"
