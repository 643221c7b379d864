"""The last safety net: an unforeseen exception answers a short 500 that closes the connection in order.

Starlette's own net sends its 500 and then re-raises, and uvicorn answers an exception raised after a response
by resetting the connection, so a keep-alive client lost its next request too. Here the exception is logged
with its traceback and the request id, and the 500 says `Connection: close`; nothing is re-raised.
"""

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("iiif_server.errors")
BODY = b"internal error: the server could not answer this request (see the log by its X-Request-ID)\n"


class UnhandledErrors:
    """Turns an exception that escaped every handler into a logged plain-text 500 with `Connection: close`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:  # the status line is gone; only closing the connection is left
                raise
            headers = [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(BODY)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
            ]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": BODY})
