"""Back-pressure and the request time limit: refusals come at once, never after a queue."""

import time
from pathlib import Path

import anyio
import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from iiif_server.app import create_app
from iiif_server.extension import Extension, Sidecar
from iiif_server.route_label import RouteLabel
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Settings


def slow_app(image_root: Path, service: ServiceSettings, handler: object) -> object:
    """The core app with one sidecar, `/iiif/3/{id}/slow.txt`, answered by `handler` (a heavy kind)."""
    sidecar = Sidecar(handler, RouteLabel("sidecar", heavy=True))  # type: ignore[arg-type]
    extension = Extension(name="slow", sidecars={"slow.txt": sidecar})
    return create_app(Settings(image_root=image_root, service=service), [extension])


def test_a_full_server_answers_503_with_retry_after_at_once(image_root: Path) -> None:
    gate = anyio.Event()
    entered = 0

    async def wait_for_gate(request: Request, segments: list[str]) -> Response:
        nonlocal entered
        entered += 1
        await gate.wait()
        return PlainTextResponse("done")

    app = slow_app(image_root, ServiceSettings(max_in_flight=2, request_timeout=10), wait_for_gate)
    statuses: list[int] = []

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            async def fetch() -> None:
                statuses.append((await client.get("/iiif/3/grid.png/slow.txt")).status_code)

            with anyio.fail_after(5):
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(fetch)
                    tasks.start_soon(fetch)
                    while entered < 2:
                        await anyio.sleep(0.01)
                    started = time.monotonic()
                    refused = await client.get("/iiif/3/grid.png/slow.txt")
                    assert time.monotonic() - started < 1
                    assert refused.status_code == 503
                    assert refused.headers["retry-after"] == "1"
                    assert "IIIF_MAX_IN_FLIGHT" in refused.text
                    assert (await client.get("/healthz")).status_code == 200  # light requests still pass
                    assert (await client.get("/iiif/3/grid.png/info.json")).status_code == 200
                    gate.set()
            assert entered == 2

    anyio.run(scenario)
    assert statuses == [200, 200]


async def call(app: object, path: str) -> list[tuple[float, dict]]:
    """Run one GET through the raw ASGI interface; each message sent with the time it was sent."""
    sent: list[tuple[float, dict]] = []
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"test")],
        "scheme": "http",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
        "http_version": "1.1",
    }

    async def receive() -> dict:
        await anyio.sleep(60)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append((time.monotonic(), message))

    await app(scope, receive, send)  # type: ignore[operator]
    return sent


def test_a_request_past_the_time_limit_answers_504_without_waiting_for_its_thread(image_root: Path) -> None:
    async def block_a_thread(request: Request, segments: list[str]) -> Response:
        await run_in_threadpool(time.sleep, 1.0)  # threads cannot be cancelled
        return PlainTextResponse("late")

    app = slow_app(image_root, ServiceSettings(max_in_flight=4, request_timeout=0.2), block_a_thread)

    async def scenario() -> None:
        started = time.monotonic()
        sent = await call(app, "/iiif/3/grid.png/slow.txt")
        start_time, start = sent[0]
        assert start["status"] == 504
        assert start_time - started < 0.8
        assert b"IIIF_REQUEST_TIMEOUT" in b"".join(m.get("body", b"") for _, m in sent)
        assert len([m for _, m in sent if m["type"] == "http.response.start"]) == 1  # "late" is dropped

    anyio.run(scenario)


def test_a_request_within_the_time_limit_is_answered_normally(image_root: Path) -> None:
    async def quick(request: Request, segments: list[str]) -> Response:
        await anyio.sleep(0.01)
        return PlainTextResponse("quick")

    app = slow_app(image_root, ServiceSettings(request_timeout=2), quick)

    async def scenario() -> None:
        sent = await call(app, "/iiif/3/grid.png/slow.txt")
        assert sent[0][1]["status"] == 200
        assert b"quick" in b"".join(m.get("body", b"") for _, m in sent)

    anyio.run(scenario)


def test_an_error_inside_the_time_limit_reaches_the_error_handler_unwrapped(image_root: Path) -> None:
    async def broken(request: Request, segments: list[str]) -> Response:
        raise ValueError("boom")

    app = slow_app(image_root, ServiceSettings(request_timeout=2), broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/iiif/3/grid.png/slow.txt")).status_code == 500

    anyio.run(scenario)
