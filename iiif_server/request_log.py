"""One log line per request with a request id (`X-Request-ID`, taken or made), as JSON or text, plus the
request metrics. Log records made while a request runs carry its id too (a context variable)."""

import json
import logging
import os
import re
import sys
import time
from contextvars import ContextVar
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import REQUEST_SECONDS, REQUESTS
from .route_table import RouteTable

log = logging.getLogger("iiif_server.access")
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# The LogRecord attributes every record has; anything else on a record came in through `extra`.
STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """A JSON object per record: time, level, logger, message, request id and the record's `extra` fields."""

    stamp: tuple[int, str] = (-1, "")  # the last second formatted, and its text: one strftime a second

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if self.stamp[0] != second:
            self.stamp = (second, self.formatTime(record, "%Y-%m-%dT%H:%M:%S"))
        entry: dict[str, Any] = {
            "time": f"{self.stamp[1]}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in vars(record).items() if k not in STANDARD and k != "request_id"})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


JSONFormatter.converter = time.gmtime  # type: ignore[assignment]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(log_format: str = "json", level: int = logging.INFO) -> None:
    """Send records to stderr, one line each, as JSON or text (`IIIF_LOG_FORMAT`); calling again replaces
    the handler installed before and leaves other handlers alone."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "iiif_server", False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.iiif_server = True  # type: ignore[attr-defined]
    handler.setFormatter(JSONFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("pyvips").setLevel(max(level, logging.WARNING))  # libvips' INFO: per-operation chatter


def request_id_of(headers: Headers) -> str:
    """The client's `X-Request-ID` when it is short and plain, else a new random one."""
    given = headers.get("x-request-id", "")
    return given if SAFE_ID.match(given) else os.urandom(16).hex()  # a uuid4's randomness, without the object


class RequestLog:
    """Takes or makes the request id, returns it as `X-Request-ID`, logs and measures every request."""

    def __init__(self, app: ASGIApp, routes: RouteTable) -> None:
        self.app = app
        self.routes = routes
        # The metrics' children by kind and status, looked up once (`labels` locks and hashes each time).
        self.children: dict[tuple[str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        kind = self.routes.label(scope).kind
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - start
            children = self.children.get((kind, status))
            if children is None:
                children = self.children[kind, status] = (
                    REQUEST_SECONDS.labels(kind),
                    REQUESTS.labels(kind, str(status)),
                )
            children[0].observe(duration)
            children[1].inc()
            if log.isEnabledFor(logging.INFO):
                # makeRecord + handle is `log.info` without looking up the caller's file and line (unused).
                args = (scope["method"], scope["path"], status, duration * 1000)
                record = log.makeRecord(
                    log.name,
                    logging.INFO,
                    __file__,
                    0,
                    "%s %s %s %.1f ms",
                    args,
                    None,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                        "kind": kind,
                        "request_id": request_id,
                    },
                )
                log.handle(record)
            REQUEST_ID.reset(token)
