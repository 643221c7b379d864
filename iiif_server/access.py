"""Access control: bearer tokens for the costly groups of endpoints and for private identifiers, and a
per-client rate limit on the costly groups.

Tokens are configured as SHA-256 hex digests (`IIIF_TOKENS`) and compared with `hmac.compare_digest`. This is
not the IIIF Authorization Flow 2.0: there are no probe, access or token services; a private identifier's
info.json and images answer 401 with `WWW-Authenticate: Bearer` without a token and 403 with a token whose
scope (`IIIF_TOKEN_SCOPES`) leaves it out.
"""

import hashlib
import hmac
import math
import time
from collections.abc import Callable

from cachetools import TTLCache
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from .asgi_errors import send_error
from .errors import IIIFError
from .metrics import REJECTED
from .route_kind import access_group, identifier_of, route_kind
from .service_settings import ServiceSettings

REALM = 'Bearer realm="iiif"'
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
    """Checks tokens, scopes and the rate limit before a request reaches the app."""

    def __init__(self, app: ASGIApp, settings: ServiceSettings, trust_forwarded: bool = False) -> None:
        self.app = app
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
        """Raise IIIFError 401, 403 or 429 when the request may not go ahead."""
        kind = route_kind(scope)
        group = access_group(scope, kind)
        headers = Headers(scope=scope)
        digest, presented = self.token(headers)
        if group in self.settings.protect:
            self.require(digest, presented, f"the {group} endpoints need a bearer token")
        identifier = identifier_of(scope) if self.settings.private_prefixes else None
        if identifier is not None and identifier.startswith(self.settings.private_prefixes):
            self.require(digest, presented, f"{identifier!r} is private: it needs a bearer token")
            allowed = self.settings.scope_of(digest or "")
            if allowed is not None and not identifier.startswith(allowed):
                raise IIIFError(403, f"this token may not read {identifier!r}", "identifier")
        if group is not None and self.bucket is not None:
            wait = self.bucket.take(digest or self.client_address(scope, headers))
            if wait > 0:
                REJECTED.labels("rate_limit").inc()
                count, period = self.bucket.rate
                reason = f"rate limit of {count} requests per {period:g} s reached (IIIF_RATE_LIMIT)"
                raise IIIFError(429, reason, None, {"Retry-After": str(max(1, math.ceil(wait)))})

    def token(self, headers: Headers) -> tuple[str | None, bool]:
        """The digest of the request's bearer token when it is a known one, and whether one was sent."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None, False
        digest = token_digest(token.strip())
        known = False
        for candidate in self.digests:  # every digest compared, each in constant time
            known |= hmac.compare_digest(candidate, digest)
        return (digest if known else None), True

    @staticmethod
    def require(digest: str | None, presented: bool, reason: str) -> None:
        """401 with a `WWW-Authenticate` challenge unless a known token was sent."""
        if digest is None:
            challenge = f'{REALM}, error="invalid_token"' if presented else REALM
            raise IIIFError(
                401, "unknown bearer token" if presented else reason, None, {"WWW-Authenticate": challenge}
            )

    def client_address(self, scope: Scope, headers: Headers) -> str:
        """The client's IP: the first `X-Forwarded-For` address behind a trusted proxy, else the peer's."""
        forwarded = headers.get("x-forwarded-for", "") if self.trust_forwarded else ""
        if forwarded.strip():
            return forwarded.split(",")[0].strip()
        client = scope.get("client")
        return client[0] if client else "unknown"
