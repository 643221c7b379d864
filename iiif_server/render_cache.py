"""Encoded images of this process by ETag: a repeated tile or thumbnail is answered without decoding."""

import threading

from cachetools import LRUCache

from .cache import hit_stats


class RenderedImages:
    """A thread-safe LRU of encoded bodies bounded in bytes; bodies above `max_item_bytes` are not kept."""

    def __init__(self, max_bytes: int, max_item_bytes: int) -> None:
        self._cache: LRUCache[str, bytes] | None = (
            LRUCache(maxsize=max_bytes, getsizeof=len) if max_bytes > 0 else None
        )
        self._max_item_bytes = min(max_item_bytes, max_bytes)
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, etag: str) -> bytes | None:
        """The body stored under `etag`, or None."""
        if self._cache is None:
            return None
        with self._lock:
            body = self._cache.get(etag)
            if body is None:
                self.misses += 1
            else:
                self.hits += 1
            return body

    def stats(self) -> dict[str, int | float | None]:
        """Hits, misses, hit rate and the bytes held."""
        held = int(self._cache.currsize) if self._cache is not None else 0
        return {**hit_stats(self.hits, self.misses), "bytes": held}

    def put(self, etag: str, body: bytes) -> None:
        """Keep `body` under `etag` when it is small enough."""
        if self._cache is not None and len(body) <= self._max_item_bytes:
            with self._lock:
                self._cache[etag] = body
