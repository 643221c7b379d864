"""Back-pressure: at most `IIIF_MAX_IN_FLIGHT` heavy requests at once per process (the next ones get 503 with
`Retry-After` at once, nothing queues), and a time limit on each request until its response starts (504).

Image and model work runs on threads, which cannot be stopped: after a timeout the client has its 504 at
once, and the request keeps its in-flight slot until its thread is done, so the limit counts real work.
"""

import asyncio
import math

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .asgi_errors import send_error
from .errors import IIIFError
from .metrics import IN_FLIGHT, REJECTED
from .route_label import OPS
from .route_table import RouteTable

RETRY_AFTER_S = 1


class BackPressure:
    """Bounds heavy requests in flight and the time any request may take to start its response."""

    def __init__(self, app: ASGIApp, routes: RouteTable, max_in_flight: int, timeout: float) -> None:
        self.app = app
        self.routes = routes
        self.max_in_flight = max_in_flight
        self.timeout = timeout
        self.in_flight = 0  # one event loop per process: no lock needed between check and increment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        label = self.routes.label(scope)
        kind = label.kind
        heavy = label.heavy and self.max_in_flight > 0
        if heavy and self.in_flight >= self.max_in_flight:
            REJECTED.labels("overload").inc()
            limit = self.max_in_flight
            error = IIIFError(
                503, f"busy: {limit} requests in flight (IIIF_MAX_IN_FLIGHT)", None, retry_after()
            )
            await send_error(error, scope, receive, send)
            return
        if heavy:
            self.in_flight += 1
        IN_FLIGHT.labels(kind).inc()
        try:
            if self.timeout > 0 and label != OPS:
                await self.run_with_timeout(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            IN_FLIGHT.labels(kind).dec()
            if heavy:
                self.in_flight -= 1

    async def run_with_timeout(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; answer 504 if its response has not started after `timeout` seconds.

        A timer on the event loop rather than a task group per request (a task, an event and a cancel scope
        each time): when it fires before the response starts it sends the 504 from a task of its own and
        cancels the app, whose thread (not cancellable) keeps this request until it is done.
        """
        started = timed_out = False
        error_sent: asyncio.Task[None] | None = None

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if timed_out:  # the client already has its 504
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        with anyio.CancelScope() as app_scope:

            def on_timeout() -> None:
                nonlocal timed_out, error_sent
                if started:
                    return
                timed_out = True
                REJECTED.labels("timeout").inc()
                reason = f"the request took longer than IIIF_REQUEST_TIMEOUT={self.timeout:g} s"
                error_sent = asyncio.ensure_future(send_error(IIIFError(504, reason), scope, receive, send))
                app_scope.cancel()

            timer = asyncio.get_running_loop().call_later(self.timeout, on_timeout)
            try:
                await self.app(scope, receive, guarded_send)
            except Exception:
                if not timed_out:
                    raise
            finally:
                timer.cancel()
        if error_sent is not None:
            await error_sent


def retry_after(seconds: float = RETRY_AFTER_S) -> dict[str, str]:
    """A `Retry-After` header of whole seconds (at least 1)."""
    return {"Retry-After": str(max(1, math.ceil(seconds)))}
