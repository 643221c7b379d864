"""CORS for everything: a plain ASGI middleware that allows any origin and answers preflights."""

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

EXPOSED = b"Link, ETag, Last-Modified, Content-Length, Retry-After, X-Request-ID"
ALLOW = [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", EXPOSED)]


class AllowAnyOrigin:
    """Adds `Access-Control-Allow-Origin: *` to every HTTP response and answers OPTIONS preflights."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope) if scope["method"] == "OPTIONS" else None
        if headers is not None and "access-control-request-method" in headers:
            requested = headers.get("access-control-request-headers", "").encode("latin-1")
            preflight = [
                *ALLOW,
                (b"access-control-allow-methods", b"GET, HEAD, POST, OPTIONS"),
                (b"access-control-allow-headers", requested or b"*"),
                (b"access-control-max-age", b"86400"),
                (b"content-length", b"0"),
            ]
            await send({"type": "http.response.start", "status": 204, "headers": preflight})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *ALLOW]
            await send(message)

        await self.app(scope, receive, send_with_cors)
