"""The cache interface on both backends (Redis: a real `redis-server`, conftest's `redis_url`), predictions
shared through it, the circuit breaker's states and Retry-After parsing."""

import socket
import time

import pytest

from extensions.annotations.model import AnnotatedRegion
from extensions.prediction_cache import PredictionCache
from iiif_server.cache import Caches, CacheSettings, MemoryBackend, NamedCache
from iiif_server.circuit_breaker import CircuitBreaker, CircuitOpen
from iiif_server.upstream_client import retry_after_seconds


def test_two_processes_share_entries_through_redis(redis_url: str) -> None:
    first, second = Caches(CacheSettings(redis_url=redis_url)), Caches(CacheSettings(redis_url=redis_url))
    assert first.regions.get("u1") is None
    first.regions.set("u1", b"\x89PNG bytes")
    assert second.regions.get("u1") == b"\x89PNG bytes"
    assert second.stats()["backend"] == "redis" and second.stats()["region"]["hit_rate"] == 1.0


def test_redis_entries_expire(redis_url: str) -> None:
    cache = Caches(CacheSettings(redis_url=redis_url, info_ttl=0.2)).info
    cache.set("k", b"v")
    assert cache.get("k") == b"v"
    time.sleep(0.4)
    assert cache.get("k") is None


def test_an_unreachable_redis_is_a_miss_not_a_crash() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cache = Caches(CacheSettings(redis_url=f"redis://127.0.0.1:{port}/0")).regions
    cache.set("k", b"v")
    assert cache.get("k") is None and cache.misses == 1


def test_memory_backend_expires_and_drops_what_does_not_fit() -> None:
    cache = NamedCache(MemoryBackend(max_bytes=10), "t", ttl=0.2)
    cache.set("big", b"x" * 11)
    cache.set("small", b"abc")
    assert cache.get("big") is None and cache.get("small") == b"abc"
    time.sleep(0.3)
    assert cache.get("small") is None


def test_predictions_are_shared_between_processes(redis_url: str) -> None:
    """Stage 1 runs once for two server processes: the second reads the first one's predictions."""
    regions = [AnnotatedRegion("r0001", ((0.0, 0.0), (10.5, 0.0), (10.5, 5.0)), "text", 0.9, None, "p")]
    shared = [Caches(CacheSettings(redis_url=redis_url)).predictions for _ in range(2)]
    first, second = (PredictionCache(1 << 20, 16, cache) for cache in shared)
    key = ("regions", "/images/p.png", "1.0", "det@1")
    assert second.get(key) is None
    first.put(key, regions)
    assert second.get(key) == regions


def test_breaker_opens_probes_and_closes() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=3, cooldown=10, clock=lambda: now[0])
    for _ in range(3):
        breaker.before_call()
        breaker.failed()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen) as refused:
        breaker.before_call()
    assert refused.value.retry_after == 10 and refused.value.failures == 3
    now[0] = 10.0
    assert breaker.state == "half-open"
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # only one probe at a time
    breaker.failed()
    assert breaker.state == "open"
    now[0] = 20.0
    breaker.before_call()
    breaker.succeeded()
    assert breaker.state == "closed" and breaker.failures == 0


@pytest.mark.parametrize(("header", "seconds"), [(None, None), ("2", 2.0), ("9999", 10.0), ("soon", None)])
def test_retry_after(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds
