"""One page of a whole-document job: Stage 1, mask, Stage 2 (`PageReader.read_page`), then ALTO, PAGE and
the IIIF AnnotationPage written to the job store.

The same `process_page` runs in the server's in-process worker threads and in RQ workers
(`iiif-server worker`), which import `run_page` by name and build their reader and store once per process
from the environment. A page that fails is marked failed with its reason; the job's other pages go on. A page
is claimed for a lease renewed while it is read (`job_leases`), and the store is retried while Redis is away
(`job_store_retry`), so a Redis outage delays a page and a killed worker's page is read again.
"""

import asyncio
import json
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from iiif_server.cache import Caches
from iiif_server.decode_guard import check_pixel_count
from iiif_server.errors import IIIFError
from iiif_server.region import Box
from iiif_server.remote_source import open_checked
from iiif_server.settings import Settings
from iiif_server.sources import FolderSource
from iiif_server.upstream_client import UpstreamClient
from iiif_server.upstream_iiif import parse_info, region_url, within_limits
from iiif_server.upstream_settings import UpstreamSettings

from .annotations import alto_xml, iiif, page_xml
from .job_leases import WORKER_ID, LeaseKeeper, claim, settle
from .job_settings import JobSettings
from .job_store import JobStore, Page, StoreUnavailable, open_store
from .job_store_retry import RetryingStore
from .ocr_settings import OCRSettings
from .page_reader import PageReader

log = logging.getLogger(__name__)

RESULTS = {
    "ocr.alto.xml": "application/xml",
    "ocr.page.xml": "application/xml",
    "ocr.json": "application/json",
}
SOURCE_FILE = "source"


class JobContext:
    """What pages are read with: the reader on the served folder, a reader on a scratch folder for uploaded
    and fetched pages, the upstream settings, the job store (retried while unreachable) and the leases."""

    def __init__(
        self, reader: PageReader, store: JobStore, upstream: UpstreamSettings, settings: JobSettings
    ) -> None:
        self.reader = reader
        self.store = RetryingStore(store, settings.store_retry, settings.store_retry_wait)
        self.leases = LeaseKeeper(store, settings.lease)
        self.upstream = upstream
        self.scratch = Path(tempfile.mkdtemp(prefix="iiif-jobs-"))
        self.scratch_reader = PageReader(reader.registry, reader.settings)
        self.scratch_reader.attach(FolderSource(self.scratch, reader.source.max_source_pixels, 16), None)
        self.scratch_reader.shared = reader.shared


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
    An unreachable store is raised: the page is not at fault, and comes back when its lease runs out."""
    scratch_file: Path | None = None
    try:
        if page["kind"] == "identifier":
            reader, identifier = context.reader, page["identifier"]
        else:
            reader, scratch_file = context.scratch_reader, _scratch_copy(context, job_id, number, page)
            identifier = scratch_file.name
        regions = reader.read_page(identifier)
        source = reader.source.describe(identifier)
        size = (source.width, source.height)
        name = page.get("label") or source.path.name
        base = f"{record['base_url']}/jobs/{job_id}/{number}"
        documents = {
            "ocr.alto.xml": alto_xml.serialize(regions, name, size),
            "ocr.page.xml": page_xml.serialize(regions, name, size),
            "ocr.json": json.dumps(
                iiif.annotation_page(f"{base}/ocr.json", page["canvas"], regions, "supplementing")
            ).encode(),
        }
        for file_name, body in documents.items():
            context.store.put_file(job_id, number, file_name, body)
        return {"status": "finished", "lines": len(regions), "width": size[0], "height": size[1]}
    except StoreUnavailable:
        raise
    except Exception as error:  # every failure is reported on its page
        reason = str(error) if isinstance(error, IIIFError) else f"{type(error).__name__}: {error}"
        if isinstance(error, IIIFError):
            reason = f"{error.status} {reason}"
        log.warning("job %s page %d failed: %s", job_id, number, reason)
        return {"status": "failed", "error": reason[:500]}
    finally:
        if scratch_file is not None:
            scratch_file.unlink(missing_ok=True)


def _scratch_copy(context: JobContext, job_id: str, number: int, page: dict[str, Any]) -> Path:
    """An uploaded page (kept in the store) or a page on an upstream IIIF server, as a scratch file."""
    if page["kind"] == "upload":
        body = context.store.get_file(job_id, number, SOURCE_FILE)
        if body is None:
            raise IIIFError(410, "the uploaded image has expired")
        suffix = page["suffix"]
    elif page["kind"] == "iiif":
        max_pixels = context.reader.source.max_source_pixels
        body, suffix = asyncio.run(_fetch_full(context.upstream, page["service"], max_pixels)), ".jpg"
    else:
        raise IIIFError(400, f"unknown page kind {page['kind']!r}")
    path = context.scratch / f"{job_id}-{number}{suffix}"
    path.write_bytes(body)
    return path


async def _fetch_full(settings: UpstreamSettings, service: str, max_pixels: int) -> bytes:
    """The whole image of an upstream image service, as large as it allows (allow-listed upstreams only,
    at most `max_pixels` declared and sent)."""
    client = UpstreamClient(settings)
    try:
        info = parse_info(await client.get(f"{service}/info.json", "info"), service)
        check_pixel_count(info.width, info.height, max_pixels)
        width, height = within_limits(info, info.width, info.height)
        body = await client.get(
            region_url(info, Box(0, 0, info.width, info.height), width, height, "jpg"), "image"
        )
    finally:
        await client.close()
    open_checked(body, max_pixels)  # 413/501/502 from the header, before the page is written out
    return body


_context: JobContext | None = None
_context_lock = threading.Lock()


def worker_context() -> JobContext:
    """This worker process's context, built from the environment on first use (models loaded once)."""
    global _context
    with _context_lock:
        if _context is None:
            from ocr_onnx import default_registry

            settings = Settings.from_env()
            jobs = JobSettings.from_env()
            reader = PageReader(default_registry(), OCRSettings.from_env())
            source = FolderSource(settings.image_root, settings.max_source_pixels, settings.source_cache_size)
            reader.attach(source, Caches(settings.cache))
            store = open_store(jobs.redis_url, jobs.result_ttl)
            _context = JobContext(reader, store, settings.upstream, jobs)
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

    jobs = JobSettings.from_env()
    open_store(jobs.redis_url, jobs.result_ttl).change_page(job_id, number - 1, fail)
