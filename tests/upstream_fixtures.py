"""Fixtures of the modules testing remote sources (a pytest plugin: `pytest_plugins = ["upstream_fixtures"]`):
the fault-injecting upstream, servers configured to use it, and a time bound."""

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_upstream import FaultInjector, serve_in_thread, upstream_settings
from starlette.testclient import TestClient

from extensions.masking import masking_extension
from iiif_server.app import create_app
from iiif_server.cache import CacheSettings
from iiif_server.settings import Settings


@pytest.fixture
def time_bound() -> Iterator[None]:
    """Fail a test that runs longer than 30 s instead of hanging the suite (`usefixtures` it)."""

    def expire(*_: Any) -> None:
        raise TimeoutError("test exceeded 30 s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def upstream(image_root: Path) -> Iterator[tuple[FaultInjector, str]]:
    """The project's plain IIIF core over the test images, behind a fault injector, on loopback."""
    injector = FaultInjector(create_app(Settings(image_root=image_root)))
    with serve_in_thread(injector) as base:
        yield injector, base


@pytest.fixture
def faults(upstream: tuple[FaultInjector, str]) -> FaultInjector:
    """The upstream's injector, behaving again and with its request log cleared."""
    injector = upstream[0]
    injector.mode, injector.info_body = None, None
    injector.requests.clear()
    injector.statuses.clear()
    return injector


@pytest.fixture
def make_server(image_root: Path, upstream: tuple[FaultInjector, str]) -> Iterator[Callable[..., TestClient]]:
    """A fresh server (own breakers and memory cache) whose `up:` prefix names the upstream;
    `max_source_pixels` goes to its settings, other keywords to its upstream settings."""
    clients: list[TestClient] = []

    def make(
        cache: CacheSettings | None = None, max_source_pixels: int = 1_000_000_000, **overrides: Any
    ) -> TestClient:
        settings = Settings(
            image_root=image_root,
            upstream=upstream_settings(upstream[1], **overrides),
            cache=cache or CacheSettings(),
            max_source_pixels=max_source_pixels,
        )
        client = TestClient(create_app(settings, [masking_extension()])).__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
