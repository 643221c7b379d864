"""Answers made without the middlewares and the router: a kept info.json (`info_answers.py`), and an image of
a folder image described before whose answer is kept or is a window of its stored tiles
(`IIIFImageAPI.image_now`), are sent from inside the request log and CORS, before access control, body
limits, back-pressure and the router, none of which such an answer needs when no identifier is private.
Anything else, and any request that could be answered otherwise (a bearer token, a body, a URL over
IIIF_MAX_URL_LENGTH, any method but GET), goes the full way.
"""

from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

RawHeaders = list[tuple[bytes, bytes]]
Prepared = tuple[int, RawHeaders, bytes]
"""An answer ready to send: status, headers, body."""
Answerer = Callable[[Scope], Prepared | None]

# The request headers a short answer depends on (the base URL's, the media type's), those that send a request
# the full way, and the validators of a 304.
READ = frozenset(
    {
        b"host",
        b"accept",
        b"authorization",
        b"content-length",
        b"transfer-encoding",
        b"if-none-match",
        b"if-modified-since",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-prefix",
    }
)
FULL_WAY = (b"authorization", b"content-length", b"transfer-encoding")
VALIDATORS = (b"if-none-match", b"if-modified-since")


def plain_get(scope: Scope, prefixes: tuple[bytes, ...], max_url_length: int) -> dict[bytes, bytes] | None:
    """The headers a short answer reads, for a GET under one of `prefixes` that may be answered short; None
    for any other request."""
    raw = scope.get("raw_path") or scope["path"].encode()
    if (
        scope["type"] != "http"
        or scope["method"] != "GET"
        or not raw.startswith(prefixes)
        or len(raw) + len(scope.get("query_string", b"")) > max_url_length
    ):
        return None
    headers = {name: value for name, value in scope["headers"] if name in READ}
    return None if any(name in headers for name in FULL_WAY) else headers


class ShortPath:
    """Sends the first answer one of `answerers` has ready for the request; everything else goes on to the
    app."""

    def __init__(self, app: ASGIApp, answerers: Sequence[Answerer]) -> None:
        self.app = app
        self.answerers = tuple(answerers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for answerer in self.answerers:
                prepared = answerer(scope)
                if prepared is not None:
                    status, headers, body = prepared
                    await send({"type": "http.response.start", "status": status, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)
