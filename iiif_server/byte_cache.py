"""The one shape of the in-process caches: a thread-safe LRU bounded by the bytes its values hold."""

import threading
from collections.abc import Callable, Hashable
from contextlib import suppress
from typing import Generic, TypeVar

from cachetools import LRUCache

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class ByteBoundedCache(Generic[K, V]):
    """Values by key, least recently used dropped first once `size_of` says `max_bytes` are held.

    With `max_items` each value counts at least `max_bytes / max_items`, so no more than `max_items` are
    kept either (open file handles, say). A value larger than the whole budget is not kept; `max_bytes`
    of 0 keeps nothing.
    """

    def __init__(self, max_bytes: int, size_of: Callable[[V], int], max_items: int = 0) -> None:
        self._size_of = size_of
        self._lock = threading.Lock()
        self.resize(max_bytes, max_items)

    def resize(self, max_bytes: int, max_items: int = 0) -> None:
        """A new budget (set once at start-up from the settings); what was kept is dropped."""
        slot = max_bytes // max_items if max_items > 0 else 0
        size_of = self._size_of
        with self._lock:
            self.max_bytes = max(0, max_bytes)
            self._cache: LRUCache[K, V] = LRUCache(
                maxsize=max(1, max_bytes), getsizeof=lambda value: max(1, slot, size_of(value))
            )

    def get(self, key: K) -> V | None:
        """The value kept under `key`, or None."""
        with self._lock:
            return self._cache.get(key)

    def put(self, key: K, value: V) -> None:
        """Keep `value` under `key`, dropping the least recently used values to make room."""
        if self.max_bytes <= 0:
            return
        with self._lock, suppress(ValueError):  # larger than the whole budget: not kept
            self._cache[key] = value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The value under `key`, made (outside the lock) and kept when missing; errors keep nothing."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    @property
    def bytes_held(self) -> int:
        """What the kept values count, as `size_of` (and `max_items`) measure them."""
        with self._lock:
            return int(self._cache.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)
