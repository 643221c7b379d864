"""Real processes for the job tests: a `redis-server` that can be killed and started again on its port, and
`iiif-server worker` (RQ) processes."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

REPO = Path(__file__).resolve().parent.parent


class RedisServer:
    """`redis-server` on a free loopback port. With `folder`, every write goes to an append-only file there
    first, so the data outlives a kill -9 and comes back when the server starts again on the same port."""

    def __init__(self, folder: Path | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (scripts/setup --test installs it as root)")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        if folder is None:
            self.command += ["--appendonly", "no"]
        else:
            self.command += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(folder)]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    pytest.fail("redis-server did not start")
                time.sleep(0.05)

    def kill(self) -> None:
        """kill -9, and wait until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def start_worker(
    redis_url: str, folder: Path, queue: str, name: str, log: IO[bytes], env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`iiif-server worker` on `queue`, reading `folder`, with only the given `IIIF_*` settings."""
    worker_env = {k: v for k, v in os.environ.items() if not k.startswith("IIIF_")}
    worker_env |= {"REDIS_URL": redis_url, "IIIF_IMAGE_ROOT": str(folder), "PYTHONPATH": str(REPO)}
    # Two workers share the CPU.
    worker_env |= {"IIIF_ONNX_INTRA_THREADS": str(max(1, (os.cpu_count() or 2) // 2)), **(env or {})}
    command = [sys.executable, "-m", "iiif_server", "worker", "--queue", queue, "--name", name]
    return subprocess.Popen(command, cwd=REPO, env=worker_env, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then kill after 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
