"""The real server as a subprocess on a free loopback port, for the validator and the end-to-end tests."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"


@dataclass(frozen=True)
class LiveServer:
    """A running server: its port, process id and the log it has written."""

    port: int
    pid: int
    log: IO[bytes]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def read_log(self) -> str:
        """Everything the server has written so far."""
        return read_log(self.log)


def free_port() -> int:
    """A loopback port that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_until_answering(
    server: subprocess.Popen[bytes], port: int, log: IO[bytes], timeout: float = 30
) -> None:
    """Poll the server's index page until it answers; fail with its log if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}:\n{read_log(log)}")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout} s:\n{read_log(log)}")


def read_log(log: IO[bytes]) -> str:
    """Everything the server has written so far."""
    log.seek(0)
    return log.read().decode(errors="replace")


@contextmanager
def running_server(
    images: Path, env: Mapping[str, str] | None = None, options: Sequence[str] = (), timeout: float = 30
) -> Iterator[LiveServer]:
    """Run `python -m iiif_server serve [options]` on `images` with only the given `IIIF_*` settings.

    A server that does not stop within 10 s of SIGTERM is killed and the exit raises RuntimeError."""
    port = free_port()
    command = [sys.executable, "-m", "iiif_server", "serve", *options, "--host", HOST, "--port", str(port)]
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("IIIF_")} | dict(env or {})
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [*command, "--images", str(images)], env=server_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_until_answering(server, port, log, timeout)
            yield LiveServer(port, server.pid, log)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                raise RuntimeError(
                    f"the server did not stop within 10 s of SIGTERM:\n{read_log(log)}"
                ) from None
