"""The HTTP connection itself: a 500 closes the keep-alive connection cleanly, slow clients are cut off."""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from iiif_server.app import create_app
from iiif_server.extension import Extension
from iiif_server.http_protocol import header_deadline_protocol
from iiif_server.route_label import OTHER, LabelledRoute
from iiif_server.settings import Settings


async def broken(request: Request) -> Response:
    """A handler with a bug: what every unforeseen failure looks like to the server."""
    raise RuntimeError("a bug in a handler")


async def fine(request: Request) -> Response:
    return PlainTextResponse("fine")


def serve(settings: Settings, header_timeout: float) -> Iterator[int]:
    """The app on a real uvicorn server in a thread; yields its port."""
    routes = [LabelledRoute(Route("/broken", broken), OTHER), LabelledRoute(Route("/fine", fine), OTHER)]
    extension = Extension("test", routes=routes)
    app = create_app(settings, [extension])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="critical", http=header_deadline_protocol(header_timeout)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def port(image_root) -> Iterator[int]:
    yield from serve(Settings(image_root=image_root), header_timeout=1.0)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the response's headers"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the body"
        body += chunk
    return int(lines[0].split()[1]), headers, body


def get(sock: socket.socket, path: str) -> None:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())


def test_a_500_says_connection_close_or_keeps_the_connection(port: int) -> None:
    """An unforeseen error answers a short 500 and the client is told to reconnect, not reset mid-stream."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        get(sock, "/broken")
        status, headers, body = read_response(sock)
        assert status == 500
        assert b"internal error" in body and b"a bug in a handler" not in body
        assert headers.get("x-request-id")
        if headers.get("connection", "").lower() != "close":
            get(sock, "/fine")  # a kept connection must then serve the next request
            assert read_response(sock)[0] == 200


def test_the_connection_closes_after_announcing_it(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        get(sock, "/broken")
        _, headers, _ = read_response(sock)
        assert headers.get("connection", "").lower() == "close"
        assert sock.recv(1) == b""  # an orderly close, no reset


def test_slow_headers_are_cut_off(port: int) -> None:
    """A client that trickles its headers (slowloris) is disconnected after the header deadline."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /fine HTTP/1.1\r\nHost: localhost\r\n")
        start = time.monotonic()
        closed = False
        while time.monotonic() - start < 4:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed = True
                break
            sock.settimeout(0.3)
            try:
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed, "the server kept a connection whose headers never ended"
        assert time.monotonic() - start < 3


def test_an_idle_connection_without_a_request_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=4) as sock:
        start = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - start < 3


def test_a_normal_keep_alive_connection_serves_many_requests(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        for _ in range(3):
            get(sock, "/fine")
            assert read_response(sock)[:1] == (200,)
            time.sleep(0.6)  # each request well within the deadline; the gaps add up past it
