"""Middleware refusals answered by the app's one IIIFError handler (middleware sits outside Starlette's)."""

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from .errors import IIIFError


async def send_error(error: IIIFError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer `error` as the app's IIIFError handler does (the app is `scope["app"]`, set by Starlette)."""
    handler = scope["app"].exception_handlers[IIIFError]
    response = await handler(Request(scope, receive), error)
    await response(scope, receive, send)
