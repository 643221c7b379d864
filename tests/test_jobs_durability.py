"""Jobs survive what kills processes: a server or an RQ worker killed with -9 mid-page, Redis going away and
coming back, Redis not there at all, and several server processes without a shared store.

Every test runs real processes: `redis-server` (tests/job_processes.py), the server under uvicorn or
gunicorn (conformance/live_server.py) or in a TestClient, and `iiif-server worker`. Leases are 2 s here
(30 s by default), so a killed reader's page comes back within seconds.
"""

import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from job_processes import RedisServer, start_worker, stop
from starlette.testclient import TestClient

from conformance.live_server import free_port, running_server
from extensions.job_leases import claim
from extensions.job_recovery import Recovery
from extensions.job_settings import JobSettings
from extensions.job_store import Page, PageChange, RedisJobStore, StoreUnavailable
from extensions.job_store_retry import RetryingStore
from extensions.job_worker import page_crashed
from extensions.jobs import jobs_extension
from iiif_server.app import create_app
from iiif_server.samples import SAMPLE_LINES, document_page
from iiif_server.settings import Settings

PAGES = [f"p{number}" for number in range(1, 7)]
LEASE = "2"

Job = dict[str, Any]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Pages of a few text lines (1200x300 strips of a known page), one copy per name: each is read afresh."""
    folder = tmp_path_factory.mktemp("durable-pages")
    image, _ = document_page(1200, 900, SAMPLE_LINES, seed=5)
    image.crop(0, 0, 1200, 300).pngsave(str(folder / "strip.png"))
    for name in PAGES:
        shutil.copy(folder / "strip.png", folder / f"{name}.png")
    return folder


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own (nothing else's jobs in it)."""
    server = RedisServer()
    server.start()
    yield server
    server.kill()


def poll(read: Callable[[], Job], until: Callable[[Job], bool], timeout: float) -> Job:
    """Read the job every 20 ms until `until` holds; fail with the last state after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job = read()
        if until(job):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def reader(get: Callable[[str], Any], url: str) -> Callable[[], Job]:
    """What `poll` reads: the job at `url`, through a TestClient's or httpx's `get`."""
    return lambda: get(url).json()


def statuses(job: Job) -> list[str]:
    return [page["status"] for page in job["pages"]]


def done(job: Job) -> bool:
    return job["status"] in ("finished", "failed")


def running_pages(redis_url: str, job_id: str) -> list[int]:
    """The pages (0-based) a killed reader left running: read from Redis, where the kill froze them."""
    pages = RedisJobStore(redis_url, 60).pages(job_id)
    return [index for index, page in enumerate(pages) if page["status"] == "running"]


# --- 13, 19: an unreachable Redis is a 503; an unknown job says why ---


def test_an_unreachable_redis_answers_503_with_retry_after(folder: Path) -> None:
    port = free_port()  # nothing listens there
    jobs = jobs_extension(JobSettings(redis_url=f"redis://127.0.0.1:{port}/0"))
    with TestClient(create_app(Settings(image_root=folder), [jobs]), raise_server_exceptions=False) as client:
        for method, path in [("POST", "/jobs"), ("GET", "/jobs/abc"), ("GET", "/jobs/abc/1/ocr.json")]:
            started = time.monotonic()
            response = client.request(
                method, path, json={"identifiers": ["p1"]} if method == "POST" else None
            )
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) >= 1
            assert "not reachable" in response.text and str(port) not in response.text
            assert "127.0.0.1" not in response.text
            assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("with_redis", "reason"),
    [(False, "jobs are kept in memory without REDIS_URL and are lost on restart"), (True, "expired")],
)
def test_an_unknown_job_says_why(folder: Path, redis_url: str, with_redis: bool, reason: str) -> None:
    jobs = jobs_extension(JobSettings(redis_url=redis_url if with_redis else None))
    with TestClient(create_app(Settings(image_root=folder), [jobs])) as client:
        for path in ("/jobs/0123abcd", "/jobs/0123abcd/1/ocr.json"):
            response = client.get(path)
            assert response.status_code == 404 and reason in response.text, response.text
            assert with_redis or "expired" not in response.text


# --- 17: several server processes need a shared store ---


def test_several_server_processes_without_redis_refuse_jobs_and_serve_images(folder: Path) -> None:
    with running_server(
        folder, {"IIIF_EXTENSIONS": "jobs"}, options=("--workers", "2"), timeout=60
    ) as server:
        created = httpx.post(f"{server.base_url}/jobs", json={"identifiers": ["p1"]}, timeout=10)
        assert created.status_code == 501 and "REDIS_URL" in created.text, created.text
        assert httpx.get(f"{server.base_url}/jobs/abc", timeout=10).status_code == 501
        assert httpx.get(f"{server.base_url}/iiif/3/p1.png/info.json", timeout=10).status_code == 200


# --- 15: kill -9 of the server mid-job ---


def test_a_server_killed_mid_job_resumes_it_after_restart(folder: Path, redis_server: RedisServer) -> None:
    env = {"REDIS_URL": redis_server.url, "IIIF_EXTENSIONS": "jobs", "IIIF_JOBS_LEASE": LEASE}
    with running_server(folder, env, timeout=60) as server:
        created = httpx.post(f"{server.base_url}/jobs", json={"identifiers": PAGES}, timeout=10).json()
        path = urlsplit(created["url"]).path
        poll(
            reader(partial(httpx.get, timeout=10), server.base_url + path),
            lambda job: "running" in statuses(job) and "queued" in statuses(job),
            timeout=60,
        )
        os.kill(server.pid, signal.SIGKILL)
    interrupted = running_pages(redis_server.url, created["id"])
    with running_server(folder, env, timeout=60) as server:
        job = poll(reader(partial(httpx.get, timeout=10), server.base_url + path), done, timeout=60)
    assert statuses(job) == ["finished"] * len(PAGES), job
    expected = [2 if index in interrupted else 1 for index in range(len(PAGES))]
    assert len(interrupted) == 1 and [page["attempts"] for page in job["pages"]] == expected, job


# --- 16: Redis away for a few seconds mid-job ---


def test_a_redis_outage_delays_jobs_and_they_finish(folder: Path, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)  # append-only file: the jobs outlive the kill
    redis.start()
    jobs = jobs_extension(JobSettings(redis_url=redis.url, store_retry_wait=0.5))
    pages = ["strip", "missing", "missing", "strip", "missing"]
    try:
        with TestClient(create_app(Settings(image_root=folder), [jobs])) as client:
            created = client.post("/jobs", json={"identifiers": pages})
            assert created.status_code == 202, created.text
            redis.kill()
            during = client.post("/jobs", json={"identifiers": ["strip"]})
            assert during.status_code == 503 and "retry-after" in during.headers
            time.sleep(4)
            redis.start()
            job = poll(reader(client.get, created.json()["url"]), done, timeout=20)
            assert statuses(job) == ["finished", "failed", "failed", "finished", "failed"], job
            assert job["pages"][1]["error"].startswith("404")
            after = client.post("/jobs", json={"identifiers": ["strip"]}).json()
            assert statuses(poll(reader(client.get, after["url"]), done, timeout=20)) == ["finished"]
    finally:
        redis.kill()


# --- 18: kill -9 of an RQ worker mid-page ---


def test_a_killed_rq_worker_page_is_read_by_another(
    folder: Path, redis_server: RedisServer, tmp_path: Path
) -> None:
    pytest.importorskip("rq")
    settings = JobSettings(backend="rq", redis_url=redis_server.url, queue="durable", lease=float(LEASE))
    workers = []
    with (tmp_path / "workers.log").open("wb") as log:
        worker = partial(
            start_worker, redis_server.url, folder, "durable", log=log, env={"IIIF_JOBS_LEASE": LEASE}
        )
        try:
            workers.append(worker(name="first"))
            with TestClient(create_app(Settings(image_root=folder), [jobs_extension(settings)])) as client:
                url = client.post("/jobs", json={"identifiers": PAGES[:3]}).json()["url"]
                read = reader(client.get, url)
                poll(read, lambda job: "running" in statuses(job), timeout=60)
                workers[0].kill()
                workers[0].wait()
                (interrupted,) = running_pages(redis_server.url, url.rsplit("/", 1)[1])
                workers.append(worker(name="second"))
                job = poll(read, done, timeout=60)
        finally:
            for started in workers:
                stop(started)
        assert statuses(job) == ["finished"] * 3, (job, (tmp_path / "workers.log").read_text())
    assert int(job["pages"][interrupted]["worker"].split(":")[1]) == workers[1].pid
    assert job["pages"][interrupted]["attempts"] == 2


# --- 15, 18: what recovery does with each page, and that two processes never both take one ---


class RecordingRunner:
    """The runner as recovery sees it, writing down what it was asked to queue."""

    interruption = "interrupted: server restarted"

    def __init__(self, queue_survives_restart: bool) -> None:
        self.queue_survives_restart = queue_survives_restart
        self.enqueued: list[tuple[str, int]] = []

    def enqueue(self, job_id: str, number: int) -> None:
        self.enqueued.append((job_id, number))


def test_recovery_requeues_expired_pages_a_bounded_number_of_times(redis_url: str) -> None:
    keys = f"test-{uuid.uuid4().hex}:"
    store = RedisJobStore(redis_url, 60, prefix=keys, active_key=keys + "active")
    past, future = time.time() - 1, time.time() + 60
    pages = [
        {"status": "queued"},
        {"status": "running", "attempts": 3, "lease_until": past},
        {"status": "running", "attempts": 1, "lease_until": past},
        {"status": "running", "attempts": 1, "lease_until": future},  # another live process reads it
        {"status": "finished", "attempts": 1},
    ]
    store.create("job", {"id": "job", "backend": "inprocess"}, pages)
    settings = JobSettings(redis_url=redis_url, max_attempts=3)
    restarted = RecordingRunner(queue_survives_restart=False)
    Recovery(store, restarted, settings).sweep()
    assert restarted.enqueued == [("job", 1), ("job", 3)]
    after = store.pages("job")
    assert [page["status"] for page in after] == ["queued", "failed", "queued", "running", "finished"]
    assert after[1]["error"] == "interrupted: server restarted (3 attempts)"
    assert after[3]["lease_until"] == future
    durable_queue = RecordingRunner(queue_survives_restart=True)  # a second process sweeping the same job
    Recovery(store, durable_queue, settings).sweep()
    assert durable_queue.enqueued == []
    for index in (0, 2, 3):
        store.change_page("job", index, lambda page: {**page, "status": "finished"})
    Recovery(store, durable_queue, settings).sweep()
    assert "job" not in store.active_jobs()


def test_one_claim_wins_among_many_processes(redis_url: str) -> None:
    keys = f"test-{uuid.uuid4().hex}:"
    stores = [RedisJobStore(redis_url, 60, prefix=keys, active_key=keys + "active") for _ in range(8)]
    stores[0].create("job", {"id": "job", "backend": "inprocess"}, [{"status": "queued"}])
    claims: list[Any] = []
    barrier = threading.Barrier(len(stores))

    def take(store: RedisJobStore) -> None:
        barrier.wait()
        claims.append(claim(store, "job", 0, lease=30))

    threads = [threading.Thread(target=take, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(claimed is not None for claimed in claims) == 1
    assert stores[0].pages("job")[0]["attempts"] == 1


def test_rq_failure_callback_leaves_abandoned_pages_to_recovery(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RQ calls `page_crashed` for a job whose worker died, long after recovery may have queued its page
    again (and another worker read it): that page is left alone. A worker's own error still fails its page."""
    from rq.exceptions import AbandonedJobError

    monkeypatch.setenv("REDIS_URL", redis_url)
    store = RedisJobStore(redis_url, 60)
    job_id = uuid.uuid4().hex
    store.create(job_id, {"id": job_id, "backend": "rq"}, [{"status": "finished"}, {"status": "queued"}])
    rq_job = SimpleNamespace(args=(job_id, 1))
    page_crashed(rq_job, None, AbandonedJobError, AbandonedJobError(), None)
    assert store.pages(job_id)[0]["status"] == "finished"
    page_crashed(SimpleNamespace(args=(job_id, 2)), None, OSError, OSError("no model file"), None)
    failed = store.pages(job_id)[1]
    assert failed["status"] == "failed" and failed["error"] == "worker failed: OSError: no model file"


class AnswerLostOnce:
    """A real store whose first page change is made but answered with `StoreUnavailable`, as when Redis is
    killed between writing a change to its append-only file and answering."""

    def __init__(self, store: RedisJobStore) -> None:
        self.store = store
        self.lost = False

    def change_page(self, job_id: str, index: int, change: PageChange) -> Page | None:
        changed = self.store.change_page(job_id, index, change)
        if not self.lost:
            self.lost = True
            raise StoreUnavailable()
        return changed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_a_claim_whose_answer_was_lost_still_holds_the_page(redis_url: str) -> None:
    """Seen when Redis was killed mid-claim: the retried claim found the page running and left it there."""
    store = RedisJobStore(redis_url, 60)
    job_id = uuid.uuid4().hex
    store.create(job_id, {"id": job_id, "backend": "inprocess"}, [{"status": "queued"}])
    retrying = RetryingStore(AnswerLostOnce(store), give_up_after=5, max_wait=0.1)  # type: ignore[arg-type]
    claimed = claim(retrying, job_id, 0, lease=30)  # type: ignore[arg-type]
    assert claimed is not None and claimed["attempts"] == 1
    assert store.pages(job_id)[0]["status"] == "running"
