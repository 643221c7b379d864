"""Who reads a page. A worker claims a queued page for a lease of some seconds and renews it while it reads
(`LeaseKeeper`); a page whose lease ran out was left by a server or worker that died, and `reclaim` puts it
back in the queue, or fails it once it has been tried `max_attempts` times. Each step is one atomic
`change_page`, so two processes sharing Redis never both take a page.

Leases compare wall-clock times written by different machines: their clocks must agree (NTP) to well
within a lease.
"""

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .job_store import JobStore, Page, PageChange

log = logging.getLogger(__name__)

# This process, as named on the pages it reads; the token tells apart processes that reuse a pid.
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def lease_ran_out(page: Page) -> bool:
    """A running page whose reader stopped renewing its lease (pages from before leases count as such)."""
    return page["status"] == "running" and page.get("lease_until", 0) < time.time()


def change_once(store: JobStore, job_id: str, index: int, change: PageChange) -> Page | None:
    """`store.change_page`, safe to try again when Redis made the change but its answer was lost (Redis
    went away meanwhile): the page then carries this call's token and is taken as it is."""
    token = secrets.token_hex(8)

    def apply(page: Page) -> Page | None:
        if page.get("change") == token:
            return page
        changed = change(page)
        return None if changed is None else {**changed, "change": token}

    return store.change_page(job_id, index, apply)


def claim(store: JobStore, job_id: str, index: int, lease: float) -> Page | None:
    """Take a queued page for this process; None when another process has it or it is done."""

    def take(page: Page) -> Page | None:
        if page["status"] != "queued":
            return None
        now = time.time()
        attempts = page.get("attempts", 0) + 1
        return {**page, "status": "running", "worker": WORKER_ID, "attempts": attempts, "started": now,
                "lease_until": now + lease}  # fmt: skip

    return change_once(store, job_id, index, take)


def renew(store: JobStore, job_id: str, index: int, lease: float) -> bool:
    """Extend this process's lease on a page it is reading; False when the page is no longer its own."""

    def extend(page: Page) -> Page | None:
        if page["status"] != "running" or page.get("worker") != WORKER_ID:
            return None
        return {**page, "lease_until": time.time() + lease}

    return change_once(store, job_id, index, extend) is not None


def settle(store: JobStore, job_id: str, index: int, **outcome: Any) -> None:
    """Store a page's outcome (`status` finished or failed, and its details); its lease ends."""

    def finish(page: Page) -> Page:
        kept = {key: value for key, value in page.items() if key != "lease_until"}
        return {**kept, **outcome, "finished": time.time()}

    change_once(store, job_id, index, finish)


def reclaim(store: JobStore, job_id: str, index: int, max_attempts: int, reason: str) -> Page | None:
    """A page whose lease ran out: queued again, or failed with `reason` once tried `max_attempts` times.
    None when the page is not (or no longer) one whose lease ran out."""

    def give_back(page: Page) -> Page | None:
        if not lease_ran_out(page):
            return None
        kept = {key: value for key, value in page.items() if key != "lease_until"}
        attempts = page.get("attempts", 1)
        if attempts >= max_attempts:
            error = f"{reason} ({attempts} attempts)"
            return {**kept, "status": "failed", "error": error, "finished": time.time()}
        return {**kept, "status": "queued"}

    return change_once(store, job_id, index, give_back)


class LeaseKeeper:
    """Renews the leases of the pages this process is reading, every third of a lease, on a daemon thread
    (started with the first page). A renewal that fails (Redis away) is logged and tried at the next beat."""

    def __init__(self, store: JobStore, lease: float) -> None:
        self.store = store
        self.lease = lease
        self._held: set[tuple[str, int]] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, job_id: str, index: int) -> Iterator[None]:
        """Keep renewing the page's lease while the block runs."""
        with self._lock:
            self._held.add((job_id, index))
            if self._thread is None:
                self._thread = threading.Thread(target=self._renew_forever, name="job-leases", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held.discard((job_id, index))

    def _renew_forever(self) -> None:
        while True:
            time.sleep(self.lease / 3)
            with self._lock:
                held = sorted(self._held)
            for job_id, index in held:
                try:
                    renew(self.store, job_id, index, self.lease)
                except Exception as error:  # the beat goes on; the lease holds until it runs out
                    log.warning("could not renew the lease of job %s page %d: %s", job_id, index + 1, error)
