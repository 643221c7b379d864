"""One cache interface, two backends: in-process (cachetools) or Redis (shared by processes and machines)."""

import logging
import threading
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
from cachetools import TLRUCache

from .env import Env

log = logging.getLogger(__name__)


class CacheBackend(Protocol):
    """Bytes by string key, each entry with its own time to live."""

    name: str

    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: float) -> None: ...


class MemoryBackend:
    """Entries in this process, least recently used dropped first once `max_bytes` are held."""

    name = "memory"

    def __init__(self, max_bytes: int) -> None:
        self._entries: TLRUCache[str, tuple[float, bytes]] = TLRUCache(
            maxsize=max_bytes,
            ttu=lambda _key, value, now: now + value[0],
            getsizeof=lambda value: len(value[1]),
        )
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
        return None if entry is None else entry[1]

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock, suppress(ValueError):  # larger than the whole cache: not kept
            self._entries[key] = (ttl, value)


class RedisBackend:
    """Entries in Redis (`REDIS_URL`); an unreachable Redis counts as a miss and is logged, never fatal."""

    name = "redis"

    def __init__(self, url: str, prefix: str = "iiif:") -> None:
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self.prefix = prefix

    def get(self, key: str) -> bytes | None:
        try:
            value = self._client.get(self.prefix + key)
        except self._errors as error:
            log.warning("redis get failed: %s", error)
            return None
        return None if value is None else bytes(value)

    def set(self, key: str, value: bytes, ttl: float) -> None:
        try:
            self._client.set(self.prefix + key, value, px=max(1, int(ttl * 1000)))
        except self._errors as error:
            log.warning("redis set failed: %s", error)


class NamedCache:
    """One kind of cached thing: a key prefix, a TTL, and its hit and miss counts."""

    def __init__(self, backend: CacheBackend, name: str, ttl: float) -> None:
        self.backend, self.name, self.ttl = backend, name, ttl
        self.hits = self.misses = 0

    def get(self, key: str) -> bytes | None:
        value = self.backend.get(f"{self.name}:{key}")
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def set(self, key: str, value: bytes) -> None:
        self.backend.set(f"{self.name}:{key}", value, self.ttl)

    async def aget(self, key: str) -> bytes | None:
        """`get` off the event loop (Redis is network I/O)."""
        return await anyio.to_thread.run_sync(self.get, key)

    async def aset(self, key: str, value: bytes) -> None:
        """`set` off the event loop."""
        await anyio.to_thread.run_sync(self.set, key, value)

    def stats(self) -> dict[str, Any]:
        return {**hit_stats(self.hits, self.misses), "ttl_s": self.ttl}


def hit_stats(hits: int, misses: int) -> dict[str, int | float | None]:
    """Hits, misses and the hit rate (None before the first lookup) of a cache, for `/metrics/cache`."""
    lookups = hits + misses
    return {"hits": hits, "misses": misses, "hit_rate": round(hits / lookups, 4) if lookups else None}


@dataclass(frozen=True)
class CacheSettings:
    """Which backend, how much memory, and the TTL of each kind of entry (seconds)."""

    redis_url: str | None = None
    memory_mb: int = 256
    info_ttl: float = 86400
    region_ttl: float = 3600
    predictions_ttl: float = 86400

    @classmethod
    def read(cls, env: Env) -> "CacheSettings":
        """Read `REDIS_URL`, `IIIF_CACHE_MEMORY_MB` and `IIIF_CACHE_*_TTL`."""
        defaults = cls()
        return cls(
            redis_url=env.text("REDIS_URL") or None,
            memory_mb=env.integer("IIIF_CACHE_MEMORY_MB", defaults.memory_mb),
            info_ttl=env.decimal("IIIF_CACHE_INFO_TTL", defaults.info_ttl),
            region_ttl=env.decimal("IIIF_CACHE_REGION_TTL", defaults.region_ttl),
            predictions_ttl=env.decimal("IIIF_CACHE_PREDICTIONS_TTL", defaults.predictions_ttl),
        )


class Caches:
    """The server's caches, all on one backend: upstream info.json, upstream region bytes, predictions."""

    def __init__(self, settings: CacheSettings) -> None:
        backend: CacheBackend = (
            RedisBackend(settings.redis_url)
            if settings.redis_url
            else MemoryBackend(settings.memory_mb * 1024 * 1024)
        )
        self.backend = backend
        self.info = NamedCache(backend, "info", settings.info_ttl)
        self.regions = NamedCache(backend, "region", settings.region_ttl)
        self.predictions = NamedCache(backend, "predictions", settings.predictions_ttl)

    def stats(self) -> dict[str, Any]:
        """Hits, misses and hit rate of each cache, for `/metrics/cache` and the log."""
        named = (self.info, self.regions, self.predictions)
        return {"backend": self.backend.name, **{cache.name: cache.stats() for cache in named}}
