"""What the app is made of, built once when it is assembled and handed to every extension (`attach`): the
settings, image sources, caches, the upstream client, the access rules, and what extensions share."""

from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import ExitStack, asynccontextmanager
from functools import partial
from typing import Any, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal
from starlette.requests import Request

from .api_versions import IMAGE_API_3, ImageAPIVersion
from .base_url import public_base_url
from .cache import Caches
from .extension import Extension
from .formats import EncodeOptions
from .image_access import ImageAccess
from .image_request import ImageRequest, looked_up, parse_image_request
from .image_sources import ImageSources
from .plan import ImagePlan, plan
from .remote_source import RemoteSource
from .route_table import IIIFPaths
from .settings import Limits, Settings
from .sources import FolderSource, SourceImage
from .upstream_client import UpstreamClient

T = TypeVar("T")


class Services:
    """One per app (or per job-worker process): never looked up through the app's state."""

    def __init__(self, settings: Settings, extensions: Sequence[Extension] = ()) -> None:
        self.settings = settings
        self.extensions = tuple(extensions)
        folder = FolderSource(
            settings.image_root,
            settings.max_source_pixels,
            settings.source_cache_size,
            settings.source_cache_mb << 20,
        )
        self.caches = Caches(settings.cache)
        self.sources = ImageSources(
            folder, RemoteSource(settings.upstream, self.caches, settings.max_source_pixels)
        )
        self.access = ImageAccess(settings, self.sources)
        self.encode_options = EncodeOptions(settings.jpeg_quality, settings.webp_quality)
        self.paths = IIIFPaths(self.extensions)  # the extensions' region syntaxes and sidecars
        self.sidecar_names = frozenset(self.paths.sidecars)
        self.portal: BlockingPortal | None = None
        self._shared: dict[Hashable, Any] = {}
        self._own_loop = ExitStack()

    @property
    def upstream(self) -> UpstreamClient:
        """The one client of upstream IIIF servers (its limits, URL guard, retries and circuit breakers)."""
        return self.sources.remote.client

    def base_url(self, request: Request) -> str:
        """The public base URL for this request."""
        return public_base_url(request, self.settings.public_base_url, self.settings.trust_forwarded_headers)

    def parse(
        self,
        identifier: str,
        region: str,
        size: str,
        rotation: str,
        quality_format: str,
        version: ImageAPIVersion = IMAGE_API_3,
    ) -> ImageRequest:
        """Parse an image request in `version`'s syntax, with the extensions' region syntaxes bound to its
        identifier."""
        syntaxes = {
            p: partial(syntax.parse, identifier=identifier) for p, syntax in self.paths.syntaxes.items()
        }
        return parse_image_request(
            identifier, region, size, rotation, quality_format, syntaxes, version.parse_size
        )

    def plan(
        self,
        image_request: ImageRequest,
        source: SourceImage,
        limits: Limits | None = None,
        version: ImageAPIVersion = IMAGE_API_3,
    ) -> ImagePlan:
        """Plan the request on the source within `limits` (the server's by default), its canonical path in
        `version`'s syntax, a region reference (`pred:`) looked up first (blocking: that may run a model)."""
        limits = limits or self.settings.limits
        request = looked_up(image_request)
        return plan(request, source.width, source.height, limits, version.canonical_size)

    def listed_identifiers(self) -> list[str]:
        """The folder's identifiers that are public by every name (blocking: it reads the folder)."""
        return self.access.listed(self.sources.folder.identifiers())

    async def describe_for(self, request: Request, identifier: str) -> SourceImage:
        """The image, once this request's client is known to be allowed to read it."""
        await self.access.authorize(request, identifier)
        return await self.sources.describe(identifier)

    def one(self, key: Hashable, make: Callable[[], T]) -> T:
        """The app's one object under `key`, made by the first extension that asks for it (the OCR sidecars
        and /jobs share one PageReader, its models and its predictions cache, this way)."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """While the app serves: blocking threads (the job runner's) may `call` coroutines on its event loop,
        where the upstream client's connections and per-host limits live."""
        async with BlockingPortal() as portal:
            self.portal = portal
            try:
                yield
            finally:
                self.portal = None
                await portal.stop(cancel_remaining=True)

    def start_own_loop(self) -> None:
        """For a process that serves nothing (an RQ worker): an event loop on a thread of its own, for the
        rest of the process's life."""
        self.portal = self._own_loop.enter_context(start_blocking_portal())

    def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """`await function(*args)` on the serving event loop, from a thread that is not the loop's."""
        if self.portal is None:
            raise RuntimeError("the server is not serving: no event loop to read pages on")
        return self.portal.call(function, *args)
