"""Where whole-document jobs live: their pages, each page's state and its result documents.

Two backends with one interface: in this process (a dict under a lock), or Redis (`REDIS_URL`), which the
server processes and the RQ workers share. Each page's state is its own field, so workers on different
machines update pages of one job without overwriting each other. Everything expires `ttl` seconds after the
job was created.
"""

import json
import threading
import time
from typing import Any, Protocol

PAGE_STATES = ("queued", "running", "finished", "failed")


class JobStore(Protocol):
    """Job records, page states and page documents (ALTO, PAGE, IIIF) by job id."""

    name: str

    def create(self, job_id: str, record: dict[str, Any], pages: list[dict[str, Any]]) -> None: ...

    def record(self, job_id: str) -> dict[str, Any] | None: ...

    def pages(self, job_id: str) -> list[dict[str, Any]]: ...

    def update_page(self, job_id: str, page: int, **changes: Any) -> None: ...

    def put_file(self, job_id: str, page: int, name: str, body: bytes) -> None: ...

    def get_file(self, job_id: str, page: int, name: str) -> bytes | None: ...


class MemoryJobStore:
    """Jobs in this process; expired jobs are dropped when a new one is created."""

    name = "memory"

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._jobs: dict[str, tuple[float, dict[str, Any], list[dict[str, Any]], dict[str, bytes]]] = {}
        self._lock = threading.Lock()

    def create(self, job_id: str, record: dict[str, Any], pages: list[dict[str, Any]]) -> None:
        now = time.monotonic()
        with self._lock:
            for expired in [key for key, entry in self._jobs.items() if entry[0] < now]:
                del self._jobs[expired]
            self._jobs[job_id] = (now + self.ttl, dict(record), [dict(p) for p in pages], {})

    def _entry(self, job_id: str) -> Any:
        entry = self._jobs.get(job_id)
        return None if entry is None or entry[0] < time.monotonic() else entry

    def record(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entry(job_id)
            return None if entry is None else dict(entry[1])

    def pages(self, job_id: str) -> list[dict[str, Any]]:
        with self._lock:
            entry = self._entry(job_id)
            return [] if entry is None else [dict(page) for page in entry[2]]

    def update_page(self, job_id: str, page: int, **changes: Any) -> None:
        with self._lock:
            entry = self._entry(job_id)
            if entry is not None:
                entry[2][page].update(changes)

    def put_file(self, job_id: str, page: int, name: str, body: bytes) -> None:
        with self._lock:
            entry = self._entry(job_id)
            if entry is not None:
                entry[3][f"{page}/{name}"] = body

    def get_file(self, job_id: str, page: int, name: str) -> bytes | None:
        with self._lock:
            entry = self._entry(job_id)
            return None if entry is None else entry[3].get(f"{page}/{name}")


class RedisJobStore:
    """Jobs in Redis: `{prefix}{id}` (the record), `{prefix}{id}:pages` (a hash of page states, one field a
    page) and `{prefix}{id}:files` (a hash of documents, `{page}/{name}`), all expiring with the job."""

    name = "redis"

    def __init__(self, url: str, ttl: float, prefix: str = "iiif:job:") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self.ttl = max(1, int(ttl))
        self.prefix = prefix

    def create(self, job_id: str, record: dict[str, Any], pages: list[dict[str, Any]]) -> None:
        key = self.prefix + job_id
        with self.client.pipeline() as pipe:
            pipe.set(key, json.dumps(record), ex=self.ttl)
            pipe.hset(key + ":pages", mapping={str(i): json.dumps(page) for i, page in enumerate(pages)})
            pipe.expire(key + ":pages", self.ttl)
            pipe.execute()

    def record(self, job_id: str) -> dict[str, Any] | None:
        value = self.client.get(self.prefix + job_id)
        return None if value is None else json.loads(value)

    def pages(self, job_id: str) -> list[dict[str, Any]]:
        fields = self.client.hgetall(self.prefix + job_id + ":pages")
        return [json.loads(fields[key]) for key in sorted(fields, key=int)]

    def update_page(self, job_id: str, page: int, **changes: Any) -> None:
        key = f"{self.prefix}{job_id}:pages"
        # Only this page's worker writes its field; read-modify-write of one field is safe.
        current = self.client.hget(key, str(page))
        if current is not None:
            self.client.hset(key, str(page), json.dumps({**json.loads(current), **changes}))

    def put_file(self, job_id: str, page: int, name: str, body: bytes) -> None:
        key = f"{self.prefix}{job_id}:files"
        with self.client.pipeline() as pipe:
            pipe.hset(key, f"{page}/{name}", body)
            pipe.expire(key, self.ttl)
            pipe.execute()

    def get_file(self, job_id: str, page: int, name: str) -> bytes | None:
        value = self.client.hget(f"{self.prefix}{job_id}:files", f"{page}/{name}")
        return None if value is None else bytes(value)


def open_store(redis_url: str | None, ttl: float) -> JobStore:
    """Redis when a URL is given, else this process's memory."""
    return RedisJobStore(redis_url, ttl) if redis_url else MemoryJobStore(ttl)


def job_status(pages: list[dict[str, Any]]) -> str:
    """The job's state from its pages': finished once every page is done (failed when every one failed),
    running once one has started, queued before."""
    states = [page["status"] for page in pages]
    if states and all(state in ("finished", "failed") for state in states):
        return "failed" if all(state == "failed" for state in states) else "finished"
    if any(state != "queued" for state in states):
        return "running"
    return "queued"
