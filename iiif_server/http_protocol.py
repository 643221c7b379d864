"""The HTTP protocol the server runs: uvicorn's httptools protocol with a deadline for each request's headers,
and a response's head sent together with its body.

uvicorn arms no timer while a request's headers arrive, so a client that opens connections and trickles header
lines (slowloris) holds them for ever. Here a connection must deliver each request's complete headers within
`IIIF_HEADER_TIMEOUT` seconds of its first byte (or of the connection's opening), else it is closed.

uvicorn writes a response's status line and headers, then its body, each with its own `send`: a tile is two
system calls and two TCP segments. `HeadWithBody` holds the head back until the body follows (at the latest,
the end of that turn of the event loop) and writes both at once.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEAD_BYTES = 8192  # a write up to this size, with nothing held, may be a response's head: held


class HeadWithBody:
    """The connection's transport, holding back a small first write until the next one (or the end of this
    turn of the event loop) and writing the two together; everything else is the transport's own."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        self.held: bytes | None = None

    def write(self, data: bytes) -> None:
        if self.held is not None:
            held, self.held = self.held, None
            self.transport.writelines((held, data))
        elif len(data) <= HEAD_BYTES:
            self.held = data
            self.loop.call_soon(self.flush)
        else:
            self.transport.write(data)

    def flush(self) -> None:
        if self.held is not None:
            held, self.held = self.held, None
            if not self.transport.is_closing():
                self.transport.write(held)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def get_write_buffer_size(self) -> int:
        return self.transport.get_write_buffer_size() + len(self.held or b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """httptools' protocol, closing connections whose request headers take longer than `header_timeout`."""

    header_timeout = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.transport = HeadWithBody(transport, self.loop)  # type: ignore[assignment]
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self.header_timeout > 0:
            self._deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def header_deadline_protocol(header_timeout: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class for uvicorn's `http=` option, with this header deadline in seconds (0: none)."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": header_timeout})
