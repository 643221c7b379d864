"""Pages left behind by a server or worker that died (kill -9, a crash, a lost machine) are found again.

Every half lease, the server goes through the unfinished jobs of its backend: a page whose lease ran out is
put back on the queue (or failed once it has been tried `IIIF_JOBS_MAX_ATTEMPTS` times), and on the first
pass after start the queued pages of the in-process queue, which died with the process, are queued again.
Several server processes sharing Redis may all do this: claims and reclaims are atomic, so no two of them
take the same page.
"""

import logging
import threading
from typing import Protocol

from .job_leases import lease_ran_out, reclaim
from .job_settings import JobSettings
from .job_store import SETTLED, JobStore, Page
from .job_store_retry import RetryingStore

log = logging.getLogger(__name__)


class Runner(Protocol):
    """Where pages run, as recovery sees it."""

    interruption: str  # why a page fails after its last interrupted attempt
    queue_survives_restart: bool  # queued pages stay queued when the server stops (RQ's, in Redis)

    def enqueue(self, job_id: str, number: int) -> None: ...


class Recovery:
    """Sweeps the unfinished jobs of one backend on a daemon thread, from `start` until `stop`. A sweep that
    cannot read the store is dropped (the next one reads again); a page it takes back is written through a
    retrying store, so that the page is queued even when Redis drops the answer."""

    def __init__(self, store: JobStore, runner: Runner, settings: JobSettings) -> None:
        self.store = store
        self.retrying_store = RetryingStore(store, settings.store_retry, settings.store_retry_wait)
        self.runner = runner
        self.settings = settings
        self.queued_resumed = runner.queue_survives_restart  # nothing to resume when the queue outlived us
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopped.clear()
        self._thread = threading.Thread(target=self._sweep_until_stopped, name="job-recovery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _sweep_until_stopped(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception as error:  # Redis away: the next sweep tries again
                log.warning("job recovery could not sweep: %s", error)
            if self._stopped.wait(self.settings.lease / 2):
                return

    def sweep(self) -> None:
        """One pass over the unfinished jobs of this backend."""
        resume_queued = not self.queued_resumed
        for job_id in self.store.active_jobs():
            record = self.store.record(job_id)
            if record is not None and record["backend"] != self.settings.backend:
                continue
            pages = self.store.pages(job_id)
            if record is None or all(page["status"] in SETTLED for page in pages):
                self.store.forget(job_id)
                continue
            for index, page in enumerate(pages):
                if self._back_to_queue(job_id, index, page, resume_queued):
                    self.runner.enqueue(job_id, index + 1)
        self.queued_resumed = True

    def _back_to_queue(self, job_id: str, index: int, page: Page, resume_queued: bool) -> bool:
        """Whether the page goes on the queue now: its lease ran out and it has attempts left, or it was
        queued on a queue that died."""
        if lease_ran_out(page):
            attempts, reason = self.settings.max_attempts, self.runner.interruption
            changed = reclaim(self.retrying_store, job_id, index, attempts, reason)
            if changed is not None:
                log.warning("job %s page %d was interrupted; now %s", job_id, index + 1, changed["status"])
            return changed is not None and changed["status"] == "queued"
        return resume_queued and page["status"] == "queued"
