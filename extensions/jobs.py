"""Whole-document OCR jobs: `POST /jobs`, `GET /jobs/{id}`, `GET /jobs/{id}/{page}/{document}`.

A job is a list of pages: identifiers served here, one uploaded image, or the canvases of a IIIF Presentation
manifest whose image services are on allowed upstreams. Each page runs `job_worker.process_page` on a queue
(`job_runners`): in-process worker threads (default), or RQ on Redis (`IIIF_JOBS_BACKEND=rq`, workers started
with `iiif-server worker`). Job state and results live in the job store (Redis whenever `REDIS_URL` is set);
while the app serves, `job_recovery` brings back the pages of servers and workers that died.
"""

import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pyvips
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from iiif_server.body_limit import SizeLimit, is_upload
from iiif_server.decode_guard import check_decodable
from iiif_server.errors import IIIFError, bad_request
from iiif_server.extension import Extension
from iiif_server.json_body import parse_json, read_json
from iiif_server.route_label import LabelledRoute, RouteLabel
from iiif_server.services import Services

from .job_recovery import Recovery
from .job_runners import InProcessRunner, RQRunner
from .job_settings import JobSettings
from .job_store import JobStore, job_status, open_store
from .job_worker import RESULTS, SOURCE_FILE, JobContext
from .ocr_settings import OCRSettings
from .ocr_sidecars import canvas_id
from .page_reader import shared_reader

log = logging.getLogger(__name__)

JOBS = RouteLabel("jobs", group="jobs")  # IIIF_PROTECT=jobs; pages are read off the request
LOADER_SUFFIXES = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "webp": ".webp", "gif": ".gif"}


class JobsEndpoint:
    """The `/jobs` routes on one store and one runner (the runner made when the app's services are given)."""

    services: Services

    def __init__(self, settings: JobSettings, registry: Any, ocr_settings: OCRSettings) -> None:
        self.settings = settings
        self.registry = registry
        self.ocr_settings = ocr_settings
        self.store: JobStore = open_store(settings.redis_url, settings.result_ttl)
        self.runner: InProcessRunner | RQRunner | None = None
        self.context: JobContext | None = None
        self.recovery: Recovery | None = None

    def attach(self, services: Services) -> None:
        """Read pages with the app's one PageReader through its sources, and make the queue."""
        self.services = services
        reader = shared_reader(services, self.registry, self.ocr_settings)
        self.context = JobContext(services, reader, self.store, self.settings)
        if self.settings.backend == "rq":
            self.runner = RQRunner(self.settings)
        else:
            self.runner = InProcessRunner(self.context, self.settings.threads, self.settings.queue_size)
        self.recovery = Recovery(self.store, self.runner, self.settings)

    @contextmanager
    def recovering(self) -> Iterator[None]:
        """While the app serves: bring back the pages of servers and workers that died (`job_recovery`)."""
        assert self.recovery is not None
        self.recovery.start()
        try:
            yield
        finally:
            self.recovery.stop()

    def routes(self) -> list[Route]:
        return [
            Route("/jobs", self.create, methods=["POST"]),
            Route("/jobs/{job_id}", self.show),
            Route("/jobs/{job_id}/{page:int}/{document}", self.document),
        ]

    async def create(self, request: Request) -> Response:
        """Start a job. JSON `{"identifiers": [...]}` or `{"manifest": url}`; or an image as the body."""
        assert self.runner is not None and self.context is not None
        base = self.services.base_url(request)
        job_id = uuid.uuid4().hex
        upload: bytes | None = None
        if is_upload(request.headers.get("content-type", "")):
            upload = await self._read_upload(request)
            max_pixels = self.services.settings.max_source_pixels
            suffix = await run_in_threadpool(_image_suffix, upload, max_pixels)
            pages = [{"kind": "upload", "suffix": suffix, "label": f"upload{suffix}"}]
            pages[0]["canvas"] = f"{base}/jobs/{job_id}/1/canvas"
        else:
            pages = await self._pages_from_json(request, base)
        if len(pages) > self.settings.max_pages:
            raise IIIFError(
                413, f"{len(pages)} pages, more than IIIF_JOBS_MAX_PAGES={self.settings.max_pages}"
            )
        private = await self._private_names(request, pages)
        record = {"id": job_id, "created": time.time(), "base_url": base, "backend": self.settings.backend}
        record["private"] = private
        states = [{**page, "page": n, "status": "queued"} for n, page in enumerate(pages, start=1)]
        await run_in_threadpool(self.store.create, job_id, record, states)
        if upload is not None:
            await run_in_threadpool(self.store.put_file, job_id, 1, SOURCE_FILE, upload)
        await run_in_threadpool(self.runner.submit, job_id, len(pages))
        document = await run_in_threadpool(self.describe, job_id, base)
        return JSONResponse(document, status_code=202, headers={"Location": document["url"]})

    async def _read_upload(self, request: Request) -> bytes:
        body = await request.body()  # at most IIIF_JOBS_MAX_UPLOAD_MB: the app's BodyLimits sees to it
        if not body:
            raise bad_request("body", "the uploaded image is empty")
        return body

    async def _pages_from_json(self, request: Request, base: str) -> list[dict[str, Any]]:
        body = await read_json(request)
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
        return manifest_pages(await self.services.upstream.get(manifest_url, "info"), manifest_url)

    async def _private_names(self, request: Request, pages: list[dict[str, Any]]) -> list[str]:
        """Check every page's identifier or upstream service as its image would be checked; the private names
        they resolve to are kept with the job, and only clients who may read them all may read the job."""
        names: set[str] = set()
        for page in pages:
            target = page.get("identifier") or page.get("service")
            if target:
                names.update(await self.services.access.authorize(request, target))
        return sorted(names)

    async def _check_reader(self, request: Request, job_id: str) -> None:
        """401 or 403 unless this client may read every private name the job was created on."""
        record = await run_in_threadpool(self.store.record, job_id)
        private = record.get("private", []) if record else []
        self.services.access.check_reader(request, f"job {job_id}", private)

    async def show(self, request: Request) -> Response:
        """The job's status, progress, each page's state or error, and links to the results."""
        await self._check_reader(request, request.path_params["job_id"])
        base = self.services.base_url(request)
        return JSONResponse(await run_in_threadpool(self.describe, request.path_params["job_id"], base))

    def describe(self, job_id: str, base: str) -> dict[str, Any]:
        record = self.store.record(job_id)
        if record is None:
            raise IIIFError(404, self.store.unknown_job(job_id), "job")
        pages = self.store.pages(job_id)
        url = f"{base}/jobs/{job_id}"
        shown = []
        for page in pages:
            shown_keys = ("page", "label", "status", "error", "lines", "worker", "attempts")
            entry = {k: page[k] for k in shown_keys if k in page}
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
        await self._check_reader(request, job_id)
        record = await run_in_threadpool(self.store.record, job_id)
        if record is None:
            raise IIIFError(404, self.store.unknown_job(job_id), "job")
        body = await run_in_threadpool(self.store.get_file, job_id, number, name)
        if body is None:
            raise IIIFError(
                404, f"page {number} of job {job_id} has no {name} (not finished, or no such page)"
            )
        return Response(body, media_type=RESULTS[name])


def _image_suffix(body: bytes, max_pixels: int) -> str:
    """The file suffix of an uploaded image, from the loader libvips picks on its header: 400 if it is no
    image, 415 for a format not taken, 413 with more than `max_pixels` (IIIF_MAX_SOURCE_PIXELS) pixels."""
    try:
        image = pyvips.Image.new_from_buffer(body, "")
    except pyvips.Error as error:
        raise bad_request("body", "the uploaded body is not an image libvips can read") from error
    loader = image.get("vips-loader")
    for prefix, suffix in LOADER_SUFFIXES.items():
        if loader.startswith(prefix):
            try:
                check_decodable(image, max_pixels)
            except IIIFError as error:  # the fault is in the body, not in an identifier
                raise IIIFError(error.status, error.reason, "body") from None
            return suffix
    raise IIIFError(415, f"uploaded image format {loader!r} is not supported", "body")


def manifest_pages(body: bytes, manifest_url: str) -> list[dict[str, Any]]:
    """One page per canvas of a Presentation 3 (`items`) or 2 (`sequences[0].canvases`) manifest whose
    painting image has an image service."""
    manifest = parse_json(body, "manifest", status=502)
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


def jobs_extension(
    settings: JobSettings | None = None, registry: Any | None = None, ocr_settings: OCRSettings | None = None
) -> Extension:
    """The `/jobs` routes (default settings where none are given); the default model registry is the
    process-wide one (shared with `ocr`)."""
    from ocr_onnx import default_registry

    settings = settings or JobSettings()
    if settings.unshared_reason:
        return refusing_jobs_extension(settings.unshared_reason)
    endpoint = JobsEndpoint(settings, registry or default_registry(), ocr_settings or OCRSettings())
    megabytes = settings.max_upload_bytes // 1_000_000
    upload_limit = SizeLimit(settings.max_upload_bytes, f"IIIF_JOBS_MAX_UPLOAD_MB={megabytes}")
    return Extension(
        name="jobs",
        routes=[LabelledRoute(route, JOBS) for route in endpoint.routes()],
        attach=endpoint.attach,
        lifespan=endpoint.recovering,
        upload_limits={"/jobs": upload_limit},
    )


def refusing_jobs_extension(reason: str) -> Extension:
    """`/jobs` answering 501 with `reason`: jobs cannot work in this configuration, the images still do."""
    log.warning("/jobs is off: %s", reason)

    async def refuse(request: Request) -> Response:
        raise IIIFError(501, reason)

    return Extension(
        name="jobs",
        routes=[
            LabelledRoute(Route("/jobs", refuse, methods=["GET", "POST"]), JOBS),
            LabelledRoute(Route("/jobs/{rest:path}", refuse), JOBS),
        ],
    )
