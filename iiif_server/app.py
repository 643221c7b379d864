"""The Starlette application: IIIF routes, the one error handler, CORS, and start-up wiring."""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from functools import partial
from typing import Any
from urllib.parse import quote, unquote

import pyvips
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .access import AccessControl
from .access_policy import AccessPolicy, principal_of
from .backpressure import BackPressure
from .base_url import public_base_url
from .body_limit import BodyLimits, SizeLimit
from .byte_cache import ByteBoundedCache
from .cache import Caches
from .canonical import CanonicalNames
from .cors import AllowAnyOrigin
from .errors import IIIFError
from .extension import Extension
from .formats import MEDIA_TYPES, EncodeOptions, parse_background
from .health import healthz, readyz
from .http_cache import is_not_modified, make_etag, validator_headers
from .image_request import ImageRequest, parse_image_request
from .info import JSONLD_MEDIA_TYPE, PROFILE_URL, build_info
from .metrics import metrics_endpoint
from .pipeline import render
from .pixel_errors import reading_pixels
from .plan import ImagePlan, plan
from .remote_source import RemoteImage, RemoteSource
from .render_cache import RenderedImages
from .request_log import RequestLog
from .settings import Limits, Settings
from .sources import FolderSource, LevelOpener, SourceImage
from .unhandled_errors import UnhandledErrors

PREFIX = "/iiif/3/"
INFO_CACHE_BYTES = 4 << 20


def iiif_segments(request: Request) -> list[str]:
    """The percent-decoded segments after `/iiif/3/`, split on the raw path so `%2F` stays in one."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1")
    start = path.find(PREFIX)
    return [unquote(part) for part in path[start + len(PREFIX) :].split("/")]


class IIIFImageAPI:
    """Handlers for info.json, image requests and the base-URI redirect."""

    def __init__(
        self, settings: Settings, source: FolderSource, extensions: Sequence[Extension], remote: RemoteSource
    ) -> None:
        self.settings = settings
        self.source = source
        self.remote = remote
        self.extensions = extensions
        self.syntaxes = {p: parse for ext in extensions for p, parse in ext.region_syntaxes.items()}
        self.sidecars = {name: handler for ext in extensions for name, handler in ext.sidecars.items()}
        self.encode_options = EncodeOptions(settings.jpeg_quality, settings.webp_quality)
        # Per-app constants of the validators: the settings' repr is long, so it is made once.
        self.settings_salt = str(settings)
        self.encode_salt = str(self.encode_options)
        # info.json bodies by service id and source (its path and mtime): building and dumping is per image. A
        # body holds its service id (the key's long part) at least once: twice its length bounds the entry.
        self.info_bodies: ByteBoundedCache[tuple[str, SourceImage, Limits], str] = ByteBoundedCache(
            INFO_CACHE_BYTES, lambda body: 2 * len(body)
        )
        self.rendered = RenderedImages(settings.render_cache_mb << 20, settings.render_cache_item_kb << 10)
        # A client without a known bearer token gets at most IIIF_ANONYMOUS_MAX_AREA pixels per image.
        self.anonymous_limits = settings.limits.with_area_at_most(settings.anonymous_max_area)
        self.policy = AccessPolicy(settings.service)
        self.names = CanonicalNames(source, remote.service_url, remote.settings.upstreams)

    async def authorize(self, request: Request, identifier: str) -> tuple[str, ...]:
        """Raise 401 or 403 unless this request's client may read the image `identifier` names, by any of its
        names: the one access check of every route that resolves an identifier. Returns the private names
        (a job keeps them to check who reads it)."""
        if not self.policy.enabled:
            return ()
        names = await run_in_threadpool(self.names.of, identifier)
        return self.policy.check_identifier(principal_of(request.scope), identifier, names)

    def listed_identifiers(self) -> list[str]:
        """The folder's identifiers that are public by every name (listings never show private ones)."""
        identifiers = self.source.identifiers()
        if not self.policy.enabled:
            return identifiers
        return [i for i in identifiers if not any(map(self.policy.is_private, self.names.of(i)))]

    def base_url(self, request: Request) -> str:
        """The public base URL for this request."""
        return public_base_url(request, self.settings.public_base_url, self.settings.trust_forwarded_headers)

    async def dispatch(self, request: Request) -> Response:
        """Route `/iiif/3/...` by its number of segments."""
        raw_length = len(request.scope.get("raw_path") or b"") + len(request.scope.get("query_string") or b"")
        if raw_length > self.settings.max_url_length:
            raise IIIFError(414, f"URL longer than IIIF_MAX_URL_LENGTH={self.settings.max_url_length}")
        segments = iiif_segments(request)
        if len(segments) == 1 and segments[0]:
            return self.redirect_to_info(request, segments[0])
        if len(segments) == 2 and segments[1] == "info.json":
            answer = partial(self.info, request, segments[0])
        elif len(segments) == 5:
            answer = partial(self.image, request, segments)
        elif len(segments) in (2, 3) and segments[-1] in self.sidecars:
            answer = partial(self.sidecars[segments[-1]], request, segments[:-1])
        else:
            raise IIIFError(404, "not a IIIF Image API path (identifiers with '/' must escape it as %2F)")
        # One check for info.json, images (`poly:` and `pred:` regions too) and sidecars alike.
        private = await self.authorize(request, segments[0])
        response = await answer()
        if private:  # what a token opened must not be kept by a shared cache (CDN, proxy) for anyone
            response.headers["Cache-Control"] = f"private, max-age={self.settings.cache_max_age}"
        return response

    def redirect_to_info(self, request: Request, identifier: str) -> Response:
        """`/iiif/3/{id}` answers 303 See Other to its info.json."""
        location = f"{self.base_url(request)}{PREFIX}{quote(identifier, safe='')}/info.json"
        return RedirectResponse(location, status_code=303)

    async def describe(self, identifier: str) -> SourceImage:
        """An image in the folder, or on an upstream IIIF server when the identifier names one."""
        service = self.remote.service_url(identifier)
        if service is not None:
            return await self.remote.describe(service)
        return await run_in_threadpool(self.source.describe, identifier)

    async def describe_for(self, request: Request, identifier: str) -> SourceImage:
        """`describe`, once this request's client is known to be allowed to read the image."""
        await self.authorize(request, identifier)
        return await self.describe(identifier)

    async def opener_for(self, source: SourceImage, image_plan: ImagePlan) -> LevelOpener:
        """What the pipeline reads pixels from: the folder, or the planned box fetched from upstream."""
        if isinstance(source, RemoteImage):
            return await self.remote.window(source, image_plan)
        return self.source

    def limits_for(self, request: Request) -> Limits:
        """The size limits of this request's client: the anonymous ones unless it sent a known token."""
        return self.settings.limits if principal_of(request.scope).digest else self.anonymous_limits

    def vary(self, *headers: str) -> str:
        """A `Vary` header: `headers`, and `Authorization` when a token changes the limits."""
        token_matters = self.anonymous_limits != self.settings.limits
        return ", ".join((*headers, "Authorization") if token_matters else headers)

    async def info(self, request: Request, identifier: str) -> Response:
        """The image's info.json, as JSON-LD when the client asks for it, with the client's own limits."""
        source = await self.describe(identifier)
        service_id = f"{self.base_url(request)}{PREFIX}{quote(identifier, safe='')}"
        limits = self.limits_for(request)
        accept = request.headers.get("accept", "")
        media_type = JSONLD_MEDIA_TYPE if "application/ld+json" in accept else "application/json"
        etag = make_etag(
            "info", service_id, media_type, source.path, source.mtime, self.settings_salt, limits
        )
        headers = validator_headers(etag, source.mtime, self.settings.cache_max_age)
        headers["Link"] = f'<{PROFILE_URL}>;rel="profile"'
        headers["Vary"] = self.vary("Accept")
        if is_not_modified(request.headers, etag, source.mtime):
            return Response(status_code=304, headers=headers)
        body = self.info_bodies.get((service_id, source, limits))
        if body is None:
            services = [s for e in self.extensions if e.info_services for s in e.info_services(service_id)]
            info = build_info(service_id, source, limits, self.settings.tile_size, services)
            body = json.dumps(info, indent=2)
            self.info_bodies.put((service_id, source, limits), body)
        return Response(body, media_type=media_type, headers=headers)

    def parse(
        self, identifier: str, region: str, size: str, rotation: str, quality_format: str
    ) -> ImageRequest:
        """Parse an image request, with the extensions' region syntaxes bound to its identifier."""
        syntaxes = {prefix: partial(parse, identifier=identifier) for prefix, parse in self.syntaxes.items()}
        return parse_image_request(identifier, region, size, rotation, quality_format, syntaxes)

    def plan(
        self, image_request: ImageRequest, source: SourceImage, limits: Limits | None = None
    ) -> ImagePlan:
        """Plan the request on the source within `limits` (the server's by default; blocking: extension
        regions may run models)."""
        return plan(image_request, source.width, source.height, limits or self.settings.limits)

    async def image(self, request: Request, segments: list[str]) -> Response:
        """An image request: parse, plan, check validators, then render off the event loop."""
        image_request = self.parse(*segments)
        background = parse_background(request.query_params.get("bg"))
        base_url = self.base_url(request)
        limits = self.limits_for(request)
        if self.remote.service_url(image_request.identifier) is None:
            # A folder image: describe, plan, validators and render in one trip to a worker thread.
            status, body, media_type, headers = await run_in_threadpool(
                self.local_image, image_request, limits, background, base_url, request.headers
            )
            return Response(body, status_code=status, media_type=media_type, headers=headers)
        source = await self.describe(image_request.identifier)
        image_plan = await run_in_threadpool(self.plan, image_request, source, limits)
        headers = self.image_headers(image_plan, source, background, base_url)
        if is_not_modified(request.headers, headers["ETag"], source.mtime):
            return Response(status_code=304, headers=headers)
        opener = await self.opener_for(source, image_plan)
        body = await run_in_threadpool(self.render, source, opener, image_plan, background)
        return Response(body, media_type=MEDIA_TYPES[image_plan.format], headers=headers)

    def image_headers(
        self, image_plan: ImagePlan, source: SourceImage, background: tuple[int, int, int], base_url: str
    ) -> dict[str, str]:
        """ETag, Last-Modified, Cache-Control and Link of an image response (the 200 and the 304)."""
        etag = make_etag(
            "image", image_plan.canonical_path, source.path, source.mtime, self.encode_salt, background
        )
        headers = validator_headers(etag, source.mtime, self.settings.cache_max_age)
        canonical_url = f"{base_url}{PREFIX}{image_plan.canonical_path}"
        headers["Link"] = f'<{canonical_url}>;rel="canonical", <{PROFILE_URL}>;rel="profile"'
        if vary := self.vary():
            headers["Vary"] = vary
        return headers

    def local_image(
        self,
        image_request: ImageRequest,
        limits: Limits,
        background: tuple[int, int, int],
        base_url: str,
        request_headers: Headers,
    ) -> tuple[int, bytes | None, str | None, dict[str, str]]:
        """Describe, plan, check validators and render a folder image (blocking: runs on a worker thread)."""
        source = self.source.describe(image_request.identifier)
        image_plan = self.plan(image_request, source, limits)
        headers = self.image_headers(image_plan, source, background, base_url)
        if is_not_modified(request_headers, headers["ETag"], source.mtime):
            return 304, None, None, headers
        body = self.rendered.get(headers["ETag"])
        if body is None:
            body = self.render(source, self.source, image_plan, background)
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
            return render(source, opener, image_plan, self.encode_options, background)


async def iiif_error_response(request: Request, exc: Exception) -> Response:
    """The one place an IIIFError becomes a response: its status and a short plain-text reason."""
    assert isinstance(exc, IIIFError)
    headers = {"Cache-Control": "no-store", **exc.headers}
    return PlainTextResponse(f"{exc}\n", status_code=exc.status, headers=headers)


async def index(request: Request) -> Response:
    """A plain list of the served identifiers with their info.json URLs."""
    api: IIIFImageAPI = request.app.state.iiif
    base = api.base_url(request)
    identifiers = await run_in_threadpool(api.listed_identifiers)
    lines = [f"{base}{PREFIX}{quote(i, safe='')}/info.json" for i in identifiers]
    return PlainTextResponse("IIIF Image API 3.0 server. Images:\n" + "\n".join(lines) + "\n")


async def cache_metrics(request: Request) -> Response:
    """Hits, misses and hit rates of the caches, and requests and breaker state per upstream host."""
    api: IIIFImageAPI = request.app.state.iiif
    caches = {**api.remote.caches.stats(), "rendered": api.rendered.stats()}
    return JSONResponse({**caches, "upstreams": api.remote.client.stats()})


def create_app(settings: Settings | None = None, extensions: Sequence[Extension] = ()) -> Starlette:
    """Build the application; settings default to the environment's."""
    settings = settings or Settings.from_env()
    if settings.pixel_threads > 0:
        pyvips.concurrency_set(settings.pixel_threads)
    pyvips.cache_set_max_mem(settings.vips_cache_mb << 20)
    pyvips.cache_set_max(settings.vips_cache_operations)
    handle_bytes = settings.source_cache_mb << 20
    source = FolderSource(
        settings.image_root, settings.max_source_pixels, settings.source_cache_size, handle_bytes
    )
    caches = Caches(settings.cache)
    remote = RemoteSource(settings.upstream, caches, settings.max_source_pixels)
    api = IIIFImageAPI(settings, source, extensions, remote)
    for extension in extensions:
        if extension.attach:
            extension.attach(source, caches)
    routes: list[Any] = [
        Route("/", index),
        Route("/metrics/cache", cache_metrics),
        Route("/metrics", metrics_endpoint),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route(PREFIX + "{rest:path}", api.dispatch),
        *(route for ext in extensions for route in ext.routes),
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        with ExitStack() as running:
            for extension in extensions:
                if extension.lifespan:
                    running.enter_context(extension.lifespan())
            yield
        await remote.client.close()

    app = Starlette(routes=routes, exception_handlers={IIIFError: iiif_error_response}, lifespan=lifespan)
    app.state.iiif = api
    app.state.settings = settings
    # Innermost first: limits and time, access rules, the 500 of last resort, CORS, and outermost the request
    # id and log line.
    service = settings.service
    app.add_middleware(BackPressure, max_in_flight=service.max_in_flight, timeout=service.request_timeout)
    body_limit = SizeLimit(settings.max_body_mb * 1_000_000, f"IIIF_MAX_BODY_MB={settings.max_body_mb}")
    uploads = {path: limit for extension in extensions for path, limit in extension.upload_limits.items()}
    app.add_middleware(BodyLimits, default=body_limit, uploads=uploads)
    app.add_middleware(AccessControl, settings=service, trust_forwarded=settings.trust_forwarded_headers)
    app.add_middleware(UnhandledErrors)
    app.add_middleware(AllowAnyOrigin)
    app.add_middleware(RequestLog)
    return app
