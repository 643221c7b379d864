"""Where whole-document jobs live: their pages, each page's state and its result documents.

Two backends with one interface: in this process (a dict under a lock), or Redis (`REDIS_URL`), which the
server processes and the RQ workers share. Each page's state is its own field, changed atomically
(`change_page`), so workers on different machines update pages of one job without overwriting each other.
Unfinished jobs are listed (`active_jobs`) so that pages of a killed server or worker can be found again.
Everything expires `ttl` seconds after the job was created. An unreachable Redis is `StoreUnavailable` (503).
"""

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, Protocol, TypeVar

from iiif_server.backpressure import retry_after
from iiif_server.errors import IIIFError

PAGE_STATES = ("queued", "running", "finished", "failed")
SETTLED = ("finished", "failed")
REDIS_TIMEOUT = 2.0  # seconds: a request waits at most about twice this for an unreachable Redis
RETRY_AFTER_S = 5

Page = dict[str, Any]
PageChange = Callable[[Page], Page | None]  # the page's new state, or None to leave it as it is
Call = ParamSpec("Call")
Result = TypeVar("Result")


class StoreUnavailable(IIIFError):
    """The job store (Redis) does not answer: 503 with Retry-After; workers retry it."""

    def __init__(self) -> None:
        reason = "the job store (Redis) is not reachable; try again shortly"
        super().__init__(503, reason, None, retry_after(RETRY_AFTER_S))


@contextmanager
def redis_reachable() -> Iterator[None]:
    """Redis's connection errors and time-outs, as `StoreUnavailable` (no host or port in the reason)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    try:
        yield
    except (RedisConnectionError, RedisTimeoutError) as error:
        raise StoreUnavailable() from error


def reachable(method: Callable[Call, Result]) -> Callable[Call, Result]:
    """A store method whose Redis errors are `StoreUnavailable`."""

    @functools.wraps(method)
    def call(*args: Call.args, **kwargs: Call.kwargs) -> Result:
        with redis_reachable():
            return method(*args, **kwargs)

    return call


def redis_client(url: str, timeout: float = REDIS_TIMEOUT) -> Any:
    """A Redis client that gives up soon (short time-outs, one retry), so a request never hangs on it."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 1)
    )


class JobStore(Protocol):
    """Job records, page states and page documents (ALTO, PAGE, IIIF) by job id."""

    name: str

    def unknown_job(self, job_id: str) -> str: ...

    def create(self, job_id: str, record: dict[str, Any], pages: list[Page]) -> None: ...

    def record(self, job_id: str) -> dict[str, Any] | None: ...

    def pages(self, job_id: str) -> list[Page]: ...

    def change_page(self, job_id: str, index: int, change: PageChange) -> Page | None: ...

    def put_file(self, job_id: str, page: int, name: str, body: bytes) -> None: ...

    def get_file(self, job_id: str, page: int, name: str) -> bytes | None: ...

    def active_jobs(self) -> list[str]: ...

    def forget(self, job_id: str) -> None: ...


class MemoryJobStore:
    """Jobs in this process; expired jobs are dropped when a new one is created."""

    name = "memory"

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._jobs: dict[str, tuple[float, dict[str, Any], list[Page], dict[str, bytes]]] = {}
        self._active: set[str] = set()
        self._lock = threading.Lock()

    def unknown_job(self, job_id: str) -> str:
        return f"unknown job {job_id!r} (jobs are kept in memory without REDIS_URL and are lost on restart)"

    def create(self, job_id: str, record: dict[str, Any], pages: list[Page]) -> None:
        now = time.monotonic()
        with self._lock:
            for expired in [key for key, entry in self._jobs.items() if entry[0] < now]:
                del self._jobs[expired]
            self._jobs[job_id] = (now + self.ttl, dict(record), [dict(p) for p in pages], {})
            self._active.add(job_id)

    def _entry(self, job_id: str) -> Any:
        entry = self._jobs.get(job_id)
        return None if entry is None or entry[0] < time.monotonic() else entry

    def record(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entry(job_id)
            return None if entry is None else dict(entry[1])

    def pages(self, job_id: str) -> list[Page]:
        with self._lock:
            entry = self._entry(job_id)
            return [] if entry is None else [dict(page) for page in entry[2]]

    def change_page(self, job_id: str, index: int, change: PageChange) -> Page | None:
        with self._lock:
            entry = self._entry(job_id)
            if entry is None or not 0 <= index < len(entry[2]):
                return None
            changed = change(dict(entry[2][index]))
            if changed is not None:
                entry[2][index] = dict(changed)
            return changed

    def put_file(self, job_id: str, page: int, name: str, body: bytes) -> None:
        with self._lock:
            entry = self._entry(job_id)
            if entry is not None:
                entry[3][f"{page}/{name}"] = body

    def get_file(self, job_id: str, page: int, name: str) -> bytes | None:
        with self._lock:
            entry = self._entry(job_id)
            return None if entry is None else entry[3].get(f"{page}/{name}")

    def active_jobs(self) -> list[str]:
        with self._lock:
            self._active = {job_id for job_id in self._active if self._entry(job_id) is not None}
            return sorted(self._active)

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._active.discard(job_id)


class RedisJobStore:
    """Jobs in Redis: `{prefix}{id}` (the record), `{prefix}{id}:pages` (a hash of page states, one field a
    page) and `{prefix}{id}:files` (a hash of documents, `{page}/{name}`), all expiring with the job; and
    `active_key`, the unfinished jobs by creation time."""

    name = "redis"

    def __init__(
        self, url: str, ttl: float, prefix: str = "iiif:job:", active_key: str = "iiif:jobs:active"
    ) -> None:
        self.client = redis_client(url)
        self.ttl = max(1, int(ttl))
        self.prefix = prefix
        self.active_key = active_key

    def unknown_job(self, job_id: str) -> str:
        return f"unknown job {job_id!r}, or expired after IIIF_JOBS_RESULT_TTL"

    @reachable
    def create(self, job_id: str, record: dict[str, Any], pages: list[Page]) -> None:
        key = self.prefix + job_id
        with self.client.pipeline() as pipe:
            pipe.set(key, json.dumps(record), ex=self.ttl)
            pipe.hset(key + ":pages", mapping={str(i): json.dumps(page) for i, page in enumerate(pages)})
            pipe.expire(key + ":pages", self.ttl)
            pipe.zadd(self.active_key, {job_id: time.time()})
            pipe.execute()

    @reachable
    def record(self, job_id: str) -> dict[str, Any] | None:
        value = self.client.get(self.prefix + job_id)
        return None if value is None else json.loads(value)

    @reachable
    def pages(self, job_id: str) -> list[Page]:
        fields = self.client.hgetall(self.prefix + job_id + ":pages")
        return [json.loads(fields[key]) for key in sorted(fields, key=int)]

    @reachable
    def change_page(self, job_id: str, index: int, change: PageChange) -> Page | None:
        key = f"{self.prefix}{job_id}:pages"

        def attempt(pipe: Any) -> Page | None:  # run again when another writer changed the hash meanwhile
            current = pipe.hget(key, str(index))
            changed = None if current is None else change(json.loads(current))
            if changed is not None:
                pipe.multi()
                pipe.hset(key, str(index), json.dumps(changed))
            return changed

        return self.client.transaction(attempt, key, value_from_callable=True)  # type: ignore[no-any-return]

    @reachable
    def put_file(self, job_id: str, page: int, name: str, body: bytes) -> None:
        key = f"{self.prefix}{job_id}:files"
        with self.client.pipeline() as pipe:
            pipe.hset(key, f"{page}/{name}", body)
            pipe.expire(key, self.ttl)
            pipe.execute()

    @reachable
    def get_file(self, job_id: str, page: int, name: str) -> bytes | None:
        value = self.client.hget(f"{self.prefix}{job_id}:files", f"{page}/{name}")
        return None if value is None else bytes(value)

    @reachable
    def active_jobs(self) -> list[str]:
        self.client.zremrangebyscore(self.active_key, "-inf", time.time() - self.ttl)
        return [job_id.decode() for job_id in self.client.zrange(self.active_key, 0, -1)]

    @reachable
    def forget(self, job_id: str) -> None:
        self.client.zrem(self.active_key, job_id)


def open_store(redis_url: str | None, ttl: float) -> JobStore:
    """Redis when a URL is given, else this process's memory."""
    return RedisJobStore(redis_url, ttl) if redis_url else MemoryJobStore(ttl)


def job_status(pages: list[Page]) -> str:
    """The job's state from its pages': finished once every page is done (failed when every one failed),
    running once one has started, queued before."""
    states = [page["status"] for page in pages]
    if states and all(state in SETTLED for state in states):
        return "failed" if all(state == "failed" for state in states) else "finished"
    if any(state != "queued" for state in states):
        return "running"
    return "queued"
