"""One page of a whole-document job: Stage 1, mask, Stage 2 (`PageReader.read_page`), then ALTO, PAGE and
the IIIF AnnotationPage written to the job store.

The same `process_page` runs in the server's in-process worker threads and in RQ workers
(`iiif-server worker`), which import `run_page` by name and build their services, reader and store once per
process from the environment. Either way a page is described and read on an event loop (the server's, or
the worker's own), where its pixels come through the page sources and the one upstream client.

A page that fails is marked failed with its reason; the job's other pages go on. A page is claimed for a
lease renewed while it is read (`job_leases`), and the store is retried while Redis is away
(`job_store_retry`), so a Redis outage delays a page and a killed worker's page is read again.
"""

import json
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from iiif_server.errors import IIIFError
from iiif_server.image_sources import FolderPages
from iiif_server.services import Services
from iiif_server.sources import FolderSource

from . import page_reader
from .annotations import alto_xml, iiif, page_xml
from .job_leases import WORKER_ID, LeaseKeeper, claim, settle
from .job_settings import JobSettings
from .job_store import JobStore, Page, StoreUnavailable, open_store
from .job_store_retry import RetryingStore
from .page_reader import PageReader, described, shared_reader
from .page_structure import lines_of, text_regions
from .server_settings import ServerSettings

log = logging.getLogger(__name__)

RESULTS = {
    "ocr.alto.xml": "application/xml",
    "ocr.page.xml": "application/xml",
    "ocr.json": iiif.MEDIA_TYPE,  # as the `ocr.json` sidecar
}
SOURCE_FILE = "source"


class JobContext:
    """What pages are read with: the app's services (its image sources, and its event loop, where upstream
    pages are fetched through the one upstream client), its one PageReader, a scratch folder for uploaded
    pages, the job store (retried while unreachable) and the leases."""

    def __init__(
        self, services: Services, reader: PageReader, store: JobStore, settings: JobSettings
    ) -> None:
        self.services = services
        self.reader = reader
        self.store = RetryingStore(store, settings.store_retry, settings.store_retry_wait)
        self.leases = LeaseKeeper(store, settings.lease)
        self.scratch = Path(tempfile.mkdtemp(prefix="iiif-jobs-"))
        self.uploads = FolderPages(FolderSource(self.scratch, services.settings.max_source_pixels, 16))


def process_page(context: JobContext, job_id: str, number: int) -> None:
    """Claim page `number` (1-based) of the job, read it and store its documents and outcome. A page that is
    done or another worker's is left alone."""
    store = context.store
    record = store.record(job_id)
    if record is None:
        log.warning("job %s expired before page %d ran", job_id, number)
        return
    page = claim(store, job_id, number - 1, context.leases.lease)
    if page is None:
        log.info("job %s page %d is done or another worker's", job_id, number)
        return
    with context.leases.holding(job_id, number - 1):
        settle(store, job_id, number - 1, **_read(context, record, job_id, number, page))


def _read(
    context: JobContext, record: dict[str, Any], job_id: str, number: int, page: Page
) -> dict[str, Any]:
    """Read the page and store its documents: the page's outcome, `finished` or `failed` with the reason.
    An unreachable store, or a server that stopped serving, is raised: the page is not at fault, and comes
    back when its lease runs out."""
    scratch_file: Path | None = None
    try:
        if page["kind"] == "upload":
            scratch_file = _scratch_copy(context, job_id, number, page)
        image = _described(context, page, scratch_file)
        regions = context.services.call(context.reader.read_page, image)
        size = (image.image.width, image.image.height)
        name = page.get("label") or image.image.path.name
        base = f"{record['base_url']}/jobs/{job_id}/{number}"
        documents = {
            "ocr.alto.xml": alto_xml.serialize(regions, name, size),
            "ocr.page.xml": page_xml.serialize(regions, name, size),
            "ocr.json": json.dumps(
                iiif.annotation_page(
                    f"{base}/ocr.json", page["canvas"], text_regions(regions), "supplementing"
                )
            ).encode(),
        }
        for file_name, body in documents.items():
            context.store.put_file(job_id, number, file_name, body)
        lines = len(lines_of(regions))
        return {"status": "finished", "lines": lines, "width": size[0], "height": size[1]}
    except StoreUnavailable:
        raise
    except Exception as error:  # every failure is reported on its page, unless the server stopped under it
        if context.services.portal is None:
            raise  # not the page's fault: its lease runs out and recovery queues it again
        reason = str(error) if isinstance(error, IIIFError) else f"{type(error).__name__}: {error}"
        if isinstance(error, IIIFError):
            reason = f"{error.status} {reason}"
        log.warning("job %s page %d failed: %s", job_id, number, reason)
        return {"status": "failed", "error": reason[:500]}
    finally:
        if scratch_file is not None:
            scratch_file.unlink(missing_ok=True)


def _described(context: JobContext, page: Page, scratch_file: Path | None) -> page_reader.Page:
    """The job page described once: an identifier served here (the folder's or an upstream's), a manifest
    canvas's image service (read like an upstream identifier), or the upload in the scratch folder."""
    sources = context.services.sources
    if page["kind"] == "identifier":
        return context.services.call(described, sources, page["identifier"])
    if page["kind"] == "iiif":
        return context.services.call(described, sources, page["service"])
    if scratch_file is not None:
        return context.services.call(described, context.uploads, scratch_file.name)
    raise IIIFError(400, f"unknown page kind {page['kind']!r}")


def _scratch_copy(context: JobContext, job_id: str, number: int, page: Page) -> Path:
    """An uploaded page (kept in the store) as a file in the scratch folder."""
    body = context.store.get_file(job_id, number, SOURCE_FILE)
    if body is None:
        raise IIIFError(410, "the uploaded image has expired")
    path = context.scratch / f"{job_id}-{number}{page['suffix']}"
    path.write_bytes(body)
    return path


_context: JobContext | None = None
_context_lock = threading.Lock()


def worker_context() -> JobContext:
    """This worker process's context, built from the environment on first use (models loaded once): its own
    services, with an event loop on a thread of its own for the upstream client."""
    global _context
    with _context_lock:
        if _context is None:
            from ocr_onnx import default_registry

            settings = ServerSettings.from_env()
            services = Services(settings.core)
            services.start_own_loop()
            reader = shared_reader(services, default_registry(settings.onnx), settings.ocr)
            store = open_store(settings.jobs.redis_url, settings.jobs.result_ttl)
            _context = JobContext(services, reader, store, settings.jobs)
        return _context


def run_page(job_id: str, number: int) -> str:
    """The RQ job function: one page, in this worker process."""
    process_page(worker_context(), job_id, number)
    return WORKER_ID


def page_crashed(job: Any, connection: Any, error_type: Any, value: Any, traceback: Any) -> None:
    """RQ's failure callback: the page fails with the worker's error, unless another worker holds it now.
    A job RQ found abandoned (its worker was killed) or cut short by an unreachable store is left to recovery,
    which queues the page again once its lease runs out. The store is opened afresh: the models may be what
    failed."""
    from rq.exceptions import AbandonedJobError

    if issubclass(error_type, (AbandonedJobError, StoreUnavailable)):
        return
    job_id, number = job.args
    reason = f"worker failed: {error_type.__name__}: {value}"[:500]

    def fail(page: Page) -> Page | None:
        mine = page["status"] == "queued" or (page["status"] == "running" and page.get("worker") == WORKER_ID)
        return {**page, "status": "failed", "error": reason, "finished": time.time()} if mine else None

    jobs = ServerSettings.from_env().jobs
    open_store(jobs.redis_url, jobs.result_ttl).change_page(job_id, number - 1, fail)
