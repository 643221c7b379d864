"""Where the pages of a job run: worker threads in this process, or RQ workers on Redis.

Both put single pages on their queue (`enqueue`), which `job_recovery` also uses to bring back the pages of
a server or worker that died; `job_worker.process_page` claims each page before reading it, so a page that
is queued twice still runs once.
"""

import logging
import queue
import threading

from iiif_server.errors import IIIFError

from .job_settings import JobSettings
from .job_store import redis_client, redis_reachable
from .job_worker import JobContext, process_page

log = logging.getLogger(__name__)


class InProcessRunner:
    """A queue of pages and a few daemon threads working through it, in this process. The queue dies with
    the process: recovery queues its pages again when the server starts."""

    interruption = "interrupted: server restarted"
    queue_survives_restart = False

    def __init__(self, context: JobContext, threads: int, size: int) -> None:
        self.context = context
        self.size = max(1, size)
        self.pages: queue.Queue[tuple[str, int]] = queue.Queue()
        self.waiting: set[tuple[str, int]] = set()  # what is on the queue, so a page waits there once
        self.thread_count = max(1, threads)
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, job_id: str, count: int) -> None:
        """Queue every page of a new job; 503 when the queue has no room for all of them."""
        free = self.size - self.pages.qsize()
        if count > free:
            raise IIIFError(503, f"the job queue is full ({free} of {self.size} places free)")
        for number in range(1, count + 1):
            self.enqueue(job_id, number)

    def enqueue(self, job_id: str, number: int) -> None:
        """Queue one page unless it is waiting already; the threads start with the first page."""
        with self._lock:
            if (job_id, number) in self.waiting:
                return
            self.waiting.add((job_id, number))
            while len(self.threads) < self.thread_count:
                name = f"iiif-job-{len(self.threads)}"
                thread = threading.Thread(target=self._work, name=name, daemon=True)
                thread.start()
                self.threads.append(thread)
        self.pages.put_nowait((job_id, number))

    def _work(self) -> None:
        """Read pages forever: a failure of one page (the store away longer than its retries) is logged,
        and recovery brings the page back."""
        while True:
            job_id, number = self.pages.get()
            with self._lock:
                self.waiting.discard((job_id, number))
            try:
                process_page(self.context, job_id, number)
            except Exception:
                log.exception("job %s page %d was left unfinished", job_id, number)
            finally:
                self.pages.task_done()


class RQRunner:
    """Pages as RQ jobs on a Redis queue; any `iiif-server worker` on that Redis runs them. RQ keeps the
    queue in Redis, so it outlives the server; a killed worker's page comes back through its lease."""

    interruption = "interrupted: worker stopped"
    queue_survives_restart = True

    def __init__(self, settings: JobSettings) -> None:
        from rq import Queue

        self.settings = settings
        self.queue = Queue(settings.queue, connection=redis_client(str(settings.redis_url)))

    def submit(self, job_id: str, count: int) -> None:
        """One RQ job per page."""
        for number in range(1, count + 1):
            self.enqueue(job_id, number)

    def enqueue(self, job_id: str, number: int) -> None:
        """An RQ job calling `extensions.job_worker.run_page(job_id, number)`; 503 when Redis is away."""
        from rq import Callback

        ttl = int(self.settings.result_ttl)
        with redis_reachable():
            self.queue.enqueue_call(
                "extensions.job_worker.run_page",
                args=(job_id, number),
                timeout=self.settings.page_timeout,
                result_ttl=ttl,
                failure_ttl=ttl,
                ttl=ttl,
                on_failure=Callback("extensions.job_worker.page_crashed"),
                description=f"OCR job {job_id} page {number}",
            )
