"""The upstream of the remote-source tests: a real IIIF server on loopback (this project's core app under
uvicorn, on a thread) behind a fault injector, and the upstream settings that name it."""

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from conformance.live_server import HOST, free_port
from iiif_server.upstream_settings import UpstreamSettings

Send = Any


@dataclass
class FaultInjector:
    """ASGI wrapper counting requests; `mode` makes image requests (never info.json) misbehave:
    `slow` (sleeps `slow_s`), `flaky` (every other one 503 + Retry-After: 0), `truncated` (half the body
    under the full Content-Length), `wrong_type` (text/html), `huge` (endless image/png chunks), `redirect`
    (302 to `redirect_to`), `canned` (`canned`: content type and body). `info_body`, when set, is every
    info.json's answer."""

    app: Any
    mode: str | None = None
    slow_s: float = 3.0
    redirect_to: str = "http://metadata.internal/latest"
    canned: tuple[str, bytes] = ("image/png", b"")
    info_body: bytes | None = None
    requests: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    _flip: bool = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.requests.append(scope["path"])
        if self.info_body is not None and scope["path"].endswith("info.json"):
            return await self._answer(send, 200, self.info_body, [(b"content-type", b"application/json")])
        if self.mode is None or scope["path"].endswith("info.json"):
            return await self.app(scope, receive, self._counting(send))
        if self.mode == "slow":
            await asyncio.sleep(self.slow_s)
        elif self.mode == "flaky":
            self._flip = not self._flip
            if self._flip:
                return await self._answer(send, 503, b"try again", [(b"retry-after", b"0")])
        elif self.mode == "wrong_type":
            html = [(b"content-type", b"text/html")]
            return await self._answer(send, 200, b"<html>login page</html>", html)
        elif self.mode == "redirect":
            return await self._answer(send, 302, b"", [(b"location", self.redirect_to.encode())])
        elif self.mode == "canned":
            return await self._answer(send, 200, self.canned[1], [(b"content-type", self.canned[0].encode())])
        elif self.mode == "huge":
            return await self._huge(send)
        elif self.mode == "truncated":
            return await self.app(scope, receive, self._truncating(send))
        await self.app(scope, receive, self._counting(send))

    def _counting(self, send: Send) -> Send:
        async def counted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.statuses.append(message["status"])
            await send(message)

        return counted

    def _truncating(self, send: Send) -> Send:
        """Hold the app's answer, then send its headers and only the first half of its body."""
        held: list[dict[str, Any]] = []

        async def truncated(message: dict[str, Any]) -> None:
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                body = b"".join(m.get("body", b"") for m in held[1:])
                await send(held[0])
                await send({"type": "http.response.body", "body": body[: len(body) // 2]})

        return truncated

    async def _answer(self, send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        self.statuses.append(status)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _huge(self, send: Send) -> None:
        self.statuses.append(200)
        headers = [(b"content-type", b"image/png")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        chunk = bytes(1 << 20)
        for _ in range(200):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run `app` under uvicorn on a loopback port on a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="critical", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the upstream server did not start")
        time.sleep(0.02)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def upstream_settings(base: str, **overrides: Any) -> UpstreamSettings:
    """`up:` names the upstream at `base`, `dead:` a closed loopback port; small timeouts and retries."""
    options: dict[str, Any] = {
        "upstreams": {"up": f"{base}/iiif/3/", "dead": f"http://127.0.0.1:{free_port()}/iiif/3/"},
        "allow_private": True,  # the upstream is on loopback
        "timeout": 1.0,
        "attempts": 3,
        "backoff": 0.05,
        "breaker_threshold": 3,
        "breaker_cooldown": 1.0,
        "max_bytes": 5_000_000,
        **overrides,
    }
    return UpstreamSettings(**options)
