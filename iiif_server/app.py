"""The Starlette application: IIIF routes, the one error handler, CORS, and start-up wiring."""

import json
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from functools import partial
from urllib.parse import quote

import pyvips
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from . import jpeg2000
from .access import AccessControl
from .api_versions import IMAGE_API_2, IMAGE_API_3, ImageAPIVersion
from .backpressure import BackPressure
from .body_limit import BodyLimits, SizeLimit
from .byte_cache import ByteBoundedCache
from .cors import AllowAnyOrigin
from .errors import IIIFError
from .extension import Extension
from .formats import MEDIA_TYPES, WHITE, parse_background
from .health import healthz, readyz
from .http_cache import is_not_modified, make_etag, validator_headers
from .image_index import ImageIndex
from .image_request import ImageRequest
from .info_answers import InfoAnswers
from .metrics import metrics_endpoint
from .pipeline import render
from .pixel_errors import reading_pixels
from .plan import ImagePlan
from .region import RegionReference
from .render_cache import RenderedImages
from .request_log import RequestLog
from .route_label import OPS, OTHER, LabelledRoute
from .route_table import IIIF_PREFIX, IIIFAnswer, RouteTable, path_segments
from .services import Services
from .settings import Limits, Settings
from .short_path import VALIDATORS, Prepared, ShortPath, plain_get
from .sources import LevelOpener, SourceImage
from .stored_tiles import StoredTiles
from .unhandled_errors import UnhandledErrors

PREFIX = IIIF_PREFIX
INFO_CACHE_BYTES = 4 << 20


class IIIFImageAPI:
    """Handlers for info.json, image requests, the base-URI redirect, the index and the cache counters."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.settings = services.settings
        self.sources = services.sources
        self.access = services.access
        # Per-app constants of the validators: the settings' repr is long, so it is made once.
        self.settings_salt = str(self.settings)
        # Stored tiles sent as they are have other bytes than the same tiles encoded again: part of the ETag.
        passthrough = self.settings.tile_passthrough
        self.encode_salt = f"{services.encode_options} passthrough={passthrough}"
        self.stored_tiles = StoredTiles(self.settings.source_cache_size, self.settings.decoded_tiles_mb << 20)
        # info.json bodies by service id and source (its path and mtime): building and dumping is per image. A
        # body holds its service id (the key's long part) at least once: twice its length bounds the entry.
        self.info_bodies: ByteBoundedCache[tuple[str, SourceImage, Limits], str] = ByteBoundedCache(
            INFO_CACHE_BYTES, lambda body: 2 * len(body)
        )
        self.rendered = RenderedImages(
            self.settings.render_cache_mb << 20, self.settings.render_cache_item_kb << 10
        )
        # info.json answers, kept images and stored tiles sent before the middlewares (`short_path.py`); not
        # when names may be private (each request is then checked).
        self.short_prefixes = (IMAGE_API_3.prefix.encode(), IMAGE_API_2.prefix.encode())
        self.info_answers = (
            None
            if self.access.policy.enabled
            else InfoAnswers(self.short_prefixes, self.settings.max_url_length, INFO_CACHE_BYTES)
        )

    async def dispatch(self, request: Request, version: ImageAPIVersion = IMAGE_API_3) -> Response:
        """Answer a path under `version`'s prefix (`/iiif/3/`, `/iiif/2/`) as the route table resolves it
        (`IIIFPaths`): the same checks, limits and pipeline for both versions."""
        raw_length = len(request.scope.get("raw_path") or b"") + len(request.scope.get("query_string") or b"")
        if raw_length > self.settings.max_url_length:
            raise IIIFError(414, f"URL longer than IIIF_MAX_URL_LENGTH={self.settings.max_url_length}")
        path = self.services.paths.resolve(path_segments(request.scope, version.prefix))
        segments = path.segments
        if path.answer is IIIFAnswer.REDIRECT:
            return self.redirect_to_info(request, segments[0], version)
        if path.answer is IIIFAnswer.INFO:
            answer = partial(self.info, request, segments[0], version)
        elif path.answer is IIIFAnswer.IMAGE:
            answer = partial(self.image, request, segments, version)
        elif path.sidecar is not None:
            answer = partial(path.sidecar.handler, request, segments[:-1])
        else:
            raise IIIFError(404, "not a IIIF Image API path (identifiers with '/' must escape it as %2F)")
        # One check for info.json, images (`poly:` and `pred:` regions too) and sidecars alike.
        private = await self.access.authorize(request, segments[0])
        response = await answer()
        if private:  # what a token opened must not be kept by a shared cache (CDN, proxy) for anyone
            response.headers["Cache-Control"] = f"private, max-age={self.settings.cache_max_age}"
        return response

    def redirect_to_info(self, request: Request, identifier: str, version: ImageAPIVersion) -> Response:
        """`/iiif/3/{id}` (and `/iiif/2/{id}`) answers 303 See Other to its info.json."""
        location = f"{self.services.base_url(request)}{version.prefix}{quote(identifier, safe='')}/info.json"
        return RedirectResponse(location, status_code=303)

    def vary(self, *headers: str) -> str:
        """A `Vary` header: `headers`, and `Authorization` when a token changes the limits."""
        return ", ".join((*headers, "Authorization") if self.access.token_matters else headers)

    async def info(self, request: Request, identifier: str, version: ImageAPIVersion) -> Response:
        """The image's info.json in `version`'s form, as JSON-LD when the client asks for it, with the
        client's own limits."""
        source = await self.sources.describe(identifier)
        service_id = f"{self.services.base_url(request)}{version.prefix}{quote(identifier, safe='')}"
        limits = self.access.limits_for(request)
        accept = request.headers.get("accept", "")
        media_type = version.jsonld_media_type if "application/ld+json" in accept else "application/json"
        etag = make_etag(
            "info", service_id, media_type, source.path, source.mtime, self.settings_salt, limits
        )
        headers = validator_headers(etag, source.mtime, self.settings.cache_max_age)
        headers["Link"] = f'<{version.profile_url}>;rel="profile"'
        headers["Vary"] = self.vary("Accept")
        if is_not_modified(request.headers, etag, source.mtime):
            return Response(status_code=304, headers=headers)
        body = self.info_bodies.get((service_id, source, limits))
        if body is None:
            extensions = self.services.extensions
            services = [s for e in extensions if e.info_services for s in e.info_services(service_id)]
            # A JPEG-tiled TIFF offers its own grid (its whole tiles are sent as stored), others the setting.
            stored = await run_in_threadpool(self.stored_tiles.tile_side, source)
            tile_size = stored or self.settings.tile_size
            info = version.build_info(service_id, source, limits, tile_size, services)
            body = json.dumps(info, indent=2)
            self.info_bodies.put((service_id, source, limits), body)
        response = Response(body, media_type=media_type, headers=headers)
        if self.info_answers is not None and not self.sources.is_remote(identifier):
            not_modified = Response(status_code=304, headers=headers).raw_headers
            kept = self.info_answers.made_now(
                str(source.path), source.mtime, etag, response.raw_headers, not_modified, response.body
            )
            if kept is not None:
                self.info_answers.keep(request.scope, kept)
        return response

    async def image(self, request: Request, segments: list[str], version: ImageAPIVersion) -> Response:
        """An image request: parse, describe once, plan, check validators, then render off the event loop."""
        image_request = self.services.parse(*segments, version=version)
        background = parse_background(request.query_params.get("bg"))
        base_url = self.services.base_url(request)
        limits = self.access.limits_for(request)
        if not self.sources.is_remote(image_request.identifier):
            # A folder image: describe, plan, validators and render in one trip to a worker thread.
            status, body, media_type, headers = await run_in_threadpool(
                self.local_image, image_request, version, limits, background, base_url, request.headers
            )
            return Response(body, status_code=status, media_type=media_type, headers=headers)
        source = await self.sources.describe(image_request.identifier)
        image_plan = await run_in_threadpool(self.services.plan, image_request, source, limits, version)
        headers = self.image_headers(image_plan, version, source, background, base_url)
        if is_not_modified(request.headers, headers["ETag"], source.mtime):
            return Response(status_code=304, headers=headers)
        opener = await self.sources.pixels(source, image_plan)
        body = await run_in_threadpool(self.render, source, opener, image_plan, background)
        return Response(body, media_type=MEDIA_TYPES[image_plan.format], headers=headers)

    def image_now(self, scope: Scope) -> Prepared | None:
        """A folder image answered where the request arrived, when the image was described by an earlier
        request and its answer is kept (`IIIF_RENDER_CACHE_MB`) or is a window of its stored tiles
        (`StoredTiles.read_now`); None sends the request the full way, which also answers every error."""
        headers = plain_get(scope, self.short_prefixes, self.settings.max_url_length)
        if headers is None or scope.get("query_string") or any(name in headers for name in VALIDATORS):
            return None
        raw = scope.get("raw_path") or scope["path"].encode()
        version = IMAGE_API_2 if raw.startswith(self.short_prefixes[1]) else IMAGE_API_3
        try:
            path = self.services.paths.resolve(path_segments(scope, version.prefix))
            if path.answer is not IIIFAnswer.IMAGE or self.sources.is_remote(path.segments[0]):
                return None
            source = self.sources.folder.described(path.segments[0])
            image_request = self.services.parse(*path.segments, version=version)
            if source is None or isinstance(image_request.region, RegionReference):
                return None
            request = Request(scope)
            image_plan = self.services.plan(image_request, source, self.access.limits_for(request), version)
        except IIIFError:
            return None
        base_url = self.services.base_url(request)
        answer_headers = self.image_headers(image_plan, version, source, WHITE, base_url)
        body = self.rendered.get(answer_headers["ETag"])
        if body is None and self.settings.tile_passthrough:
            quality = self.services.encode_options.jpeg_quality
            body = self.stored_tiles.read_now(source, image_plan, quality)
            if body is not None:
                self.rendered.put(answer_headers["ETag"], body)
        if body is None:
            return None
        media_type = MEDIA_TYPES[image_plan.format]
        return 200, Response(body, media_type=media_type, headers=answer_headers).raw_headers, body

    def image_headers(
        self,
        image_plan: ImagePlan,
        version: ImageAPIVersion,
        source: SourceImage,
        background: tuple[int, int, int],
        base_url: str,
    ) -> dict[str, str]:
        """ETag, Last-Modified, Cache-Control and Link of an image response (the 200 and the 304)."""
        etag = make_etag(
            "image", image_plan.canonical_path, source.path, source.mtime, self.encode_salt, background
        )
        headers = validator_headers(etag, source.mtime, self.settings.cache_max_age)
        canonical_url = f"{base_url}{version.prefix}{image_plan.canonical_path}"
        headers["Link"] = f'<{canonical_url}>;rel="canonical", <{version.profile_url}>;rel="profile"'
        if vary := self.vary():
            headers["Vary"] = vary
        return headers

    def local_image(
        self,
        image_request: ImageRequest,
        version: ImageAPIVersion,
        limits: Limits,
        background: tuple[int, int, int],
        base_url: str,
        request_headers: Headers,
    ) -> tuple[int, bytes | None, str | None, dict[str, str]]:
        """Describe, plan, check validators and render a folder image (blocking: runs on a worker thread; the
        folder's own describe, as `FolderPages.describe` runs it, without a second trip to a thread)."""
        folder = self.sources.folder
        source = folder.describe(image_request.identifier)
        image_plan = self.services.plan(image_request, source, limits, version)
        headers = self.image_headers(image_plan, version, source, background, base_url)
        if is_not_modified(request_headers, headers["ETag"], source.mtime):
            return 304, None, None, headers
        body = self.rendered.get(headers["ETag"])
        if body is None:
            quality = self.services.encode_options.jpeg_quality
            passthrough = self.settings.tile_passthrough
            body = self.stored_tiles.read(source, image_plan, quality) if passthrough else None
            if body is None:
                opener = self.sources.local.opener(source, image_plan)
                body = self.render(source, opener, image_plan, background)
            self.rendered.put(headers["ETag"], body)
        return 200, body, MEDIA_TYPES[image_plan.format], headers

    def render(
        self,
        source: SourceImage,
        opener: LevelOpener,
        image_plan: ImagePlan,
        background: tuple[int, int, int],
    ) -> bytes:
        """Encode the planned image; a libvips failure is a 501 with a reason that names no folders."""
        with reading_pixels(source.path):
            return render(source, opener, image_plan, self.services.encode_options, background)

    async def cache_metrics(self, request: Request) -> Response:
        """Hits, misses and hit rates of the caches, and requests and breaker state per upstream host."""
        caches = {**self.services.caches.stats(), "rendered": self.rendered.stats()}
        return JSONResponse({**caches, "upstreams": self.services.upstream.stats()})


async def iiif_error_response(request: Request, exc: Exception) -> Response:
    """The one place an IIIFError becomes a response: its status and a short plain-text reason."""
    assert isinstance(exc, IIIFError)
    headers = {"Cache-Control": "no-store", **exc.headers}
    return PlainTextResponse(f"{exc}\n", status_code=exc.status, headers=headers)


def create_app(settings: Settings, extensions: Sequence[Extension] = ()) -> Starlette:
    """Build the application on its settings (read once at start: `ServerSettings.from_env`)."""
    if settings.pixel_threads > 0:
        pyvips.concurrency_set(settings.pixel_threads)
    jpeg2000.set_decode_threads(settings.pixel_threads or os.cpu_count() or 1)
    pyvips.cache_set_max_mem(settings.vips_cache_mb << 20)
    pyvips.cache_set_max(settings.vips_cache_operations)
    services = Services(settings, extensions)
    api = IIIFImageAPI(services)
    for extension in extensions:
        if extension.attach:
            extension.attach(services)
    table = RouteTable(
        [
            LabelledRoute(Route("/", ImageIndex(services).answer), OTHER),
            LabelledRoute(Route("/metrics/cache", api.cache_metrics), OPS),
            LabelledRoute(Route("/metrics", partial(metrics_endpoint, services)), OPS),
            LabelledRoute(Route("/healthz", healthz), OPS),
            LabelledRoute(Route("/readyz", partial(readyz, services)), OPS),
            LabelledRoute(Route(PREFIX + "{rest:path}", api.dispatch), services.paths.label),
            LabelledRoute(
                Route(IMAGE_API_2.prefix + "{rest:path}", partial(api.dispatch, version=IMAGE_API_2)),
                partial(services.paths.label, prefix=IMAGE_API_2.prefix),
            ),
            *(route for ext in extensions for route in ext.routes),
        ],
        services.paths,
    )
    table.check_groups(settings.service.protect)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with services.serving():
            with ExitStack() as running:
                for extension in extensions:
                    if extension.lifespan:
                        running.enter_context(extension.lifespan())
                yield
        await services.upstream.close()

    errors = {IIIFError: iiif_error_response}
    app = Starlette(routes=table.routes, exception_handlers=errors, lifespan=lifespan)
    app.state.iiif = api  # for tests and debugging only: handlers are given what they use
    app.state.routes = table  # the same
    # Innermost first: limits and time, body sizes, access rules, the 500 of last resort, kept info.json
    # answers, CORS, and outermost the request id and log line.
    service = settings.service
    app.add_middleware(
        BackPressure, routes=table, max_in_flight=service.max_in_flight, timeout=service.request_timeout
    )
    body_limit = SizeLimit(settings.max_body_mb * 1_000_000, f"IIIF_MAX_BODY_MB={settings.max_body_mb}")
    uploads = {path: limit for extension in extensions for path, limit in extension.upload_limits.items()}
    app.add_middleware(BodyLimits, default=body_limit, uploads=uploads)
    app.add_middleware(
        AccessControl, routes=table, settings=service, trust_forwarded=settings.trust_forwarded_headers
    )
    app.add_middleware(UnhandledErrors)
    if api.info_answers is not None:
        app.add_middleware(ShortPath, answerers=(api.info_answers.find, api.image_now))
    app.add_middleware(AllowAnyOrigin)
    app.add_middleware(RequestLog, routes=table)
    return app
