"""Whole-document OCR jobs: `POST /jobs`, `GET /jobs/{id}`, `GET /jobs/{id}/{page}/{document}`.

A job is a list of pages: identifiers served here, one uploaded image, or the canvases of a IIIF Presentation
manifest whose image services are on allowed upstreams. Each page runs `job_worker.process_page` on a queue:
in-process worker threads (default), or RQ on Redis (`IIIF_JOBS_BACKEND=rq`, workers started with
`iiif-server worker`). Job state and results live in the job store (Redis whenever `REDIS_URL` is set).
"""

import json
import queue
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote

import pyvips
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from iiif_server.errors import IIIFError, bad_request
from iiif_server.extension import Extension

from .job_settings import JobSettings
from .job_store import JobStore, job_status, open_store
from .job_worker import RESULTS, SOURCE_FILE, JobContext, process_page
from .ocr_settings import OCRSettings
from .ocr_sidecars import canvas_id
from .page_reader import PageReader

LOADER_SUFFIXES = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "webp": ".webp", "gif": ".gif"}


class InProcessRunner:
    """A bounded queue of pages and a few daemon threads working through it, in this process."""

    def __init__(self, context: JobContext, threads: int, size: int) -> None:
        self.context = context
        self.pages: queue.Queue[tuple[str, int]] = queue.Queue(maxsize=max(1, size))
        self.thread_count = max(1, threads)
        self.threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def submit(self, job_id: str, count: int) -> None:
        """Queue every page of a job; 503 when the queue has no room for all of them."""
        free = self.pages.maxsize - self.pages.qsize()
        if count > free:
            raise IIIFError(503, f"the job queue is full ({free} of {self.pages.maxsize} places free)")
        with self._lock:  # the threads start with the first job
            while len(self.threads) < self.thread_count:
                thread = threading.Thread(
                    target=self._work, name=f"iiif-job-{len(self.threads)}", daemon=True
                )
                thread.start()
                self.threads.append(thread)
        for number in range(1, count + 1):
            self.pages.put_nowait((job_id, number))

    def _work(self) -> None:
        while True:
            job_id, number = self.pages.get()
            try:
                process_page(self.context, job_id, number)
            finally:
                self.pages.task_done()


class RQRunner:
    """Pages as RQ jobs on a Redis queue; any `iiif-server worker` on that Redis runs them."""

    def __init__(self, settings: JobSettings) -> None:
        from redis import Redis
        from rq import Queue

        self.settings = settings
        self.queue = Queue(settings.queue, connection=Redis.from_url(str(settings.redis_url)))

    def submit(self, job_id: str, count: int) -> None:
        """One RQ job per page, calling `extensions.job_worker.run_page(job_id, number)`."""
        from rq import Callback

        ttl = int(self.settings.result_ttl)
        for number in range(1, count + 1):
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


class JobsEndpoint:
    """The `/jobs` routes on one store and one runner (both made when the app attaches its image source)."""

    def __init__(self, settings: JobSettings, registry: Any, ocr_settings: OCRSettings) -> None:
        self.settings = settings
        self.registry = registry
        self.ocr_settings = ocr_settings
        self.store: JobStore = open_store(settings.redis_url, settings.result_ttl)
        self.runner: InProcessRunner | RQRunner | None = None
        self.context: JobContext | None = None

    def attach(self, source: Any, caches: Any) -> None:
        """Build the reader on the app's folder and caches, and start the queue."""
        reader = PageReader(self.registry, self.ocr_settings)
        reader.attach(source, caches)
        self.context = JobContext(reader, self.store, _upstream_settings())
        if self.settings.backend == "rq":
            self.runner = RQRunner(self.settings)
        else:
            self.runner = InProcessRunner(self.context, self.settings.threads, self.settings.queue_size)

    def routes(self) -> list[Route]:
        return [
            Route("/jobs", self.create, methods=["POST"]),
            Route("/jobs/{job_id}", self.show),
            Route("/jobs/{job_id}/{page:int}/{document}", self.document),
        ]

    async def create(self, request: Request) -> Response:
        """Start a job. JSON `{"identifiers": [...]}` or `{"manifest": url}`; or an image as the body."""
        assert self.runner is not None and self.context is not None
        api = request.app.state.iiif
        base = api.base_url(request)
        job_id = uuid.uuid4().hex
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        upload: bytes | None = None
        if content_type.startswith("image/") or content_type == "application/octet-stream":
            upload = await self._read_upload(request)
            suffix = await run_in_threadpool(_image_suffix, upload)
            pages = [{"kind": "upload", "suffix": suffix, "label": f"upload{suffix}"}]
            pages[0]["canvas"] = f"{base}/jobs/{job_id}/1/canvas"
        else:
            pages = await self._pages_from_json(request, base)
        if len(pages) > self.settings.max_pages:
            raise IIIFError(
                413, f"{len(pages)} pages, more than IIIF_JOBS_MAX_PAGES={self.settings.max_pages}"
            )
        record = {"id": job_id, "created": time.time(), "base_url": base, "backend": self.settings.backend}
        states = [{**page, "page": n, "status": "queued"} for n, page in enumerate(pages, start=1)]
        await run_in_threadpool(self.store.create, job_id, record, states)
        if upload is not None:
            await run_in_threadpool(self.store.put_file, job_id, 1, SOURCE_FILE, upload)
        await run_in_threadpool(self.runner.submit, job_id, len(pages))
        document = await run_in_threadpool(self.describe, job_id, base)
        return JSONResponse(document, status_code=202, headers={"Location": document["url"]})

    async def _read_upload(self, request: Request) -> bytes:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > self.settings.max_upload_bytes:
                limit = self.settings.max_upload_bytes // 1_000_000
                raise IIIFError(413, f"upload larger than IIIF_JOBS_MAX_UPLOAD_MB={limit}", "body")
        if not body:
            raise bad_request("body", "the uploaded image is empty")
        return bytes(body)

    async def _pages_from_json(self, request: Request, base: str) -> list[dict[str, Any]]:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError) as error:
            raise bad_request("body", f"expected JSON or an image body: {error}") from error
        if not isinstance(body, dict):
            raise bad_request("body", 'expected an object with "identifiers" or "manifest"')
        identifiers, manifest_url = body.get("identifiers"), body.get("manifest")
        if (identifiers is None) == (manifest_url is None):
            raise bad_request("body", 'give exactly one of "identifiers" and "manifest"')
        if identifiers is not None:
            if not isinstance(identifiers, list) or not identifiers:
                raise bad_request("identifiers", "expected a non-empty list of identifiers")
            if not all(isinstance(i, str) and i for i in identifiers):
                raise bad_request("identifiers", "every identifier must be a non-empty string")
            return [
                {"kind": "identifier", "identifier": i, "label": i, "canvas": canvas_id(base, i)}
                for i in identifiers
            ]
        if not isinstance(manifest_url, str) or not manifest_url.startswith(("http://", "https://")):
            raise bad_request("manifest", "expected the http(s) URL of a IIIF Presentation manifest")
        client = request.app.state.iiif.remote.client
        return manifest_pages(await client.get(manifest_url, "info"), manifest_url)

    async def show(self, request: Request) -> Response:
        """The job's status, progress, each page's state or error, and links to the results."""
        base = request.app.state.iiif.base_url(request)
        return JSONResponse(await run_in_threadpool(self.describe, request.path_params["job_id"], base))

    def describe(self, job_id: str, base: str) -> dict[str, Any]:
        record = self.store.record(job_id)
        if record is None:
            raise IIIFError(404, f"no job {job_id!r} (unknown, or expired after IIIF_JOBS_RESULT_TTL)", "job")
        pages = self.store.pages(job_id)
        url = f"{base}/jobs/{job_id}"
        shown = []
        for page in pages:
            entry = {k: page[k] for k in ("page", "label", "status", "error", "lines", "worker") if k in page}
            if page["status"] == "finished":
                entry["results"] = {name: f"{url}/{page['page']}/{name}" for name in RESULTS}
            shown.append(entry)
        states = [page["status"] for page in pages]
        progress = {
            "done": sum(s in ("finished", "failed") for s in states),
            "total": len(states),
            **{state: states.count(state) for state in ("queued", "running", "finished", "failed")},
        }
        return {
            "id": job_id,
            "url": url,
            "status": job_status(pages),
            "backend": record["backend"],
            "created": record["created"],
            "progress": progress,
            "pages": shown,
        }

    async def document(self, request: Request) -> Response:
        """One result document of one finished page: `ocr.alto.xml`, `ocr.page.xml` or `ocr.json`."""
        job_id, number, name = (request.path_params[k] for k in ("job_id", "page", "document"))
        if name not in RESULTS:
            raise IIIFError(404, f"no document {name!r}; a page has {', '.join(RESULTS)}", "document")
        record = await run_in_threadpool(self.store.record, job_id)
        if record is None:
            raise IIIFError(404, f"no job {job_id!r}", "job")
        body = await run_in_threadpool(self.store.get_file, job_id, number, name)
        if body is None:
            raise IIIFError(
                404, f"page {number} of job {job_id} has no {name} (not finished, or no such page)"
            )
        return Response(body, media_type=RESULTS[name])


def _upstream_settings() -> Any:
    from iiif_server.upstream_settings import UpstreamSettings

    return UpstreamSettings.from_env()


def _image_suffix(body: bytes) -> str:
    """The file suffix of an uploaded image, from the loader libvips picks; 400 if it is no image."""
    try:
        loader = pyvips.Image.new_from_buffer(body, "").get("vips-loader")
    except pyvips.Error as error:
        raise bad_request("body", "the uploaded body is not an image libvips can read") from error
    for prefix, suffix in LOADER_SUFFIXES.items():
        if loader.startswith(prefix):
            return suffix
    raise IIIFError(415, f"uploaded image format {loader!r} is not supported", "body")


def manifest_pages(body: bytes, manifest_url: str) -> list[dict[str, Any]]:
    """One page per canvas of a Presentation 3 (`items`) or 2 (`sequences[0].canvases`) manifest whose
    painting image has an image service."""
    try:
        manifest = json.loads(body)
    except ValueError as error:
        raise IIIFError(502, f"the manifest at {manifest_url} is not JSON", "manifest") from error
    if not isinstance(manifest, dict):
        raise IIIFError(502, "the manifest is not a JSON object", "manifest")
    canvases = manifest.get("items")
    if canvases is None:
        sequences = manifest.get("sequences") or [{}]
        canvases = sequences[0].get("canvases", []) if isinstance(sequences[0], dict) else []
    pages = []
    for index, canvas in enumerate(canvases if isinstance(canvases, list) else [], start=1):
        service = _canvas_service(canvas) if isinstance(canvas, dict) else None
        if service is None:
            continue
        label = canvas.get("label")
        text = json.dumps(label, ensure_ascii=False)[:200] if not isinstance(label, str) else label
        canvas_ref = str(canvas.get("id") or canvas.get("@id") or f"{manifest_url}#canvas-{index}")
        pages.append({"kind": "iiif", "service": service, "canvas": canvas_ref, "label": text or str(index)})
    if not pages:
        raise bad_request("manifest", "the manifest has no canvas painted by a IIIF image service")
    return pages


def _canvas_service(canvas: dict[str, Any]) -> str | None:
    """The image service of a canvas's first painting image (Presentation 3 or 2)."""
    annotations: list[Any] = []
    for page in canvas.get("items") or []:
        annotations.extend(page.get("items") or [] if isinstance(page, dict) else [])
    annotations.extend(canvas.get("images") or [])
    for annotation in annotations:
        body = annotation.get("body") or annotation.get("resource") if isinstance(annotation, dict) else None
        services = body.get("service") if isinstance(body, dict) else None
        for service in services if isinstance(services, list) else [services]:
            if isinstance(service, dict) and (service.get("id") or service.get("@id")):
                return quote(str(service.get("id") or service.get("@id")).rstrip("/"), safe=":/%?=&~+-._")
    return None


def jobs_extension(settings: JobSettings | None = None, registry: Any | None = None) -> Extension:
    """The `/jobs` routes; the default model registry is the process-wide one (shared with `ocr`)."""
    from ocr_onnx import default_registry

    try:
        settings = settings or JobSettings.from_env()
    except ValueError as error:
        raise IIIFError(500, str(error)) from error
    endpoint = JobsEndpoint(settings, registry or default_registry(), OCRSettings.from_env())
    return Extension(name="jobs", routes=endpoint.routes(), attach=endpoint.attach)
