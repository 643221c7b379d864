"""One page of a whole-document job: Stage 1, mask, Stage 2 (`PageReader.read_page`), then ALTO, PAGE and
the IIIF AnnotationPage written to the job store.

The same `process_page` runs in the server's in-process worker threads and in RQ workers
(`iiif-server worker`), which import `run_page` by name and build their reader and store once per process
from the environment. A page that fails is marked failed with its reason; the job's other pages go on.
"""

import asyncio
import json
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from iiif_server.cache import Caches
from iiif_server.errors import IIIFError
from iiif_server.region import Box
from iiif_server.settings import Settings
from iiif_server.sources import FolderSource
from iiif_server.upstream_client import UpstreamClient
from iiif_server.upstream_iiif import parse_info, region_url, within_limits
from iiif_server.upstream_settings import UpstreamSettings

from .annotations import alto_xml, iiif, page_xml
from .job_settings import JobSettings
from .job_store import JobStore, open_store
from .ocr_settings import OCRSettings
from .page_reader import PageReader

log = logging.getLogger(__name__)

RESULTS = {
    "ocr.alto.xml": "application/xml",
    "ocr.page.xml": "application/xml",
    "ocr.json": "application/json",
}
SOURCE_FILE = "source"
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class JobContext:
    """What pages are read with: the reader on the served folder, a reader on a scratch folder for uploaded
    and fetched pages, the upstream settings, and the job store."""

    def __init__(self, reader: PageReader, store: JobStore, upstream: UpstreamSettings) -> None:
        self.reader = reader
        self.store = store
        self.upstream = upstream
        self.scratch = Path(tempfile.mkdtemp(prefix="iiif-jobs-"))
        self.scratch_reader = PageReader(reader.registry, reader.settings)
        self.scratch_reader.attach(FolderSource(self.scratch, reader.source.max_source_pixels, 16), None)
        self.scratch_reader.shared = reader.shared


def process_page(context: JobContext, job_id: str, number: int) -> None:
    """Read page `number` (1-based) of the job and store its documents; a failure is stored as the page's."""
    store = context.store
    record = store.record(job_id)
    if record is None:
        log.warning("job %s expired before page %d ran", job_id, number)
        return
    page = store.pages(job_id)[number - 1]
    store.update_page(job_id, number - 1, status="running", worker=WORKER_NAME, started=time.time())
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
            store.put_file(job_id, number, file_name, body)
        store.update_page(
            job_id, number - 1, status="finished", lines=len(regions), width=size[0], height=size[1],
            finished=time.time(),
        )  # fmt: skip
    except Exception as error:  # every failure is reported on its page
        reason = str(error) if isinstance(error, IIIFError) else f"{type(error).__name__}: {error}"
        if isinstance(error, IIIFError):
            reason = f"{error.status} {reason}"
        log.warning("job %s page %d failed: %s", job_id, number, reason)
        store.update_page(job_id, number - 1, status="failed", error=reason[:500], finished=time.time())
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
        body, suffix = asyncio.run(_fetch_full(context.upstream, page["service"])), ".jpg"
    else:
        raise IIIFError(400, f"unknown page kind {page['kind']!r}")
    path = context.scratch / f"{job_id}-{number}{suffix}"
    path.write_bytes(body)
    return path


async def _fetch_full(settings: UpstreamSettings, service: str) -> bytes:
    """The whole image of an upstream image service, as large as it allows (allow-listed hosts only)."""
    client = UpstreamClient(settings)
    try:
        info = parse_info(await client.get(f"{service}/info.json", "info"), service)
        width, height = within_limits(info, info.width, info.height)
        return await client.get(
            region_url(info, Box(0, 0, info.width, info.height), width, height, "jpg"), "image"
        )
    finally:
        await client.close()


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
            _context = JobContext(reader, open_store(jobs.redis_url, jobs.result_ttl), settings.upstream)
        return _context


def run_page(job_id: str, number: int) -> str:
    """The RQ job function: one page, in this worker process."""
    process_page(worker_context(), job_id, number)
    return WORKER_NAME


def page_crashed(job: Any, connection: Any, error_type: Any, value: Any, traceback: Any) -> None:
    """RQ's failure callback (the page's worker died or timed out): mark the page failed."""
    job_id, number = job.args
    reason = f"worker failed: {error_type.__name__}: {value}"[:500]
    worker_context().store.update_page(
        job_id, number - 1, status="failed", error=reason, finished=time.time()
    )
