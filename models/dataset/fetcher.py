"""Fetch line crops by URL from a IIIF server, or in process from an image folder, with retries."""

import dataclasses
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential

from iiif_server.upstream_client import retry_after_seconds

IN_PROCESS = "in-process"
IIIF_PATH = "/iiif/3"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_RETRY_AFTER = 60.0  # a crop fetcher may wait longer than the server's own upstream client
RETRIED_STATUSES = frozenset({429})  # besides every 5xx


class FetchError(Exception):
    """A crop that could not be fetched: the HTTP status (None for network errors) and the reason."""

    def __init__(self, status: int | None, reason: str, retry_after: float | None = None) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Worth another try: a network error, a 5xx or a 429 (a 4xx is the request's fault)."""
        return self.status is None or self.status >= 500 or self.status in RETRIED_STATUSES

    def __str__(self) -> str:
        return f"HTTP {self.status}: {self.reason}" if self.status else self.reason


def iiif_base(server: str) -> str:
    """The IIIF base URL of a server given as `http://host:port` (then `/iiif/3` is added) or as its base."""
    parts = urlsplit(server)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--server needs an http(s) URL, not {server!r}")
    return server.rstrip("/") + (IIIF_PATH if parts.path.strip("/") == "" else "")


def in_process_transport(images: Path) -> httpx.ASGITransport:
    """The full server app on `images`, called in process: other settings from the `IIIF_*` environment."""
    from extensions.server import create_server_app
    from extensions.server_settings import ServerSettings

    settings = ServerSettings.from_env()
    core = dataclasses.replace(settings.core, image_root=images.resolve())
    app = create_server_app(dataclasses.replace(settings, core=core, extensions=("masking",)))
    return httpx.ASGITransport(app=app, raise_app_exceptions=False)


def check_status(response: httpx.Response) -> httpx.Response:
    """The response when it is a 200, or a FetchError with the status and the server's reason."""
    if response.status_code != 200:
        reason = response.text.strip()[:300] or response.reason_phrase
        retry_after = retry_after_seconds(response.headers.get("retry-after"), MAX_RETRY_AFTER)
        raise FetchError(response.status_code, reason, retry_after)
    return response


def png_body(response: httpx.Response) -> bytes:
    """The body of a response that must be a PNG."""
    if not response.content.startswith(PNG_SIGNATURE):
        kind = response.headers.get("content-type", "no content type")
        raise FetchError(response.status_code, f"the body is not a PNG ({kind})")
    return response.content


class CropFetcher:
    """GETs crop paths below one IIIF base; retries network errors, 5xx and 429, honouring Retry-After."""

    def __init__(
        self,
        server: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retries: int = 3,
        timeout: float = 30.0,
        connections: int = 4,
        backoff: float = 0.5,
    ) -> None:
        if (server is None) == (transport is None):
            raise ValueError("give either a server URL or an in-process transport")
        base = iiif_base(server) if server else f"http://{IN_PROCESS}{IIIF_PATH}"
        # What the manifest records: the full URL from a server, the path below any server in process.
        self.url_base = base if server else IIIF_PATH
        self.retries = retries
        self.backoff = backoff
        self.client = httpx.AsyncClient(
            base_url=base,
            transport=transport,
            timeout=timeout,
            limits=httpx.Limits(max_connections=connections),
        )

    async def __aenter__(self) -> "CropFetcher":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()

    def url(self, path: str) -> str:
        """The URL recorded for a crop path."""
        return self.url_base + path

    async def fetch(self, path: str) -> bytes:
        """The PNG at `path` (below the IIIF base); raises FetchError once retries are spent or on a 4xx."""
        return png_body(await self.get(path))

    async def image_exists(self, identifier: str) -> bool:
        """Whether the server answers for the image: its info.json is a 200 (any failure counts as no)."""
        try:
            await self.get(f"/{quote(identifier, safe='')}/info.json")
        except FetchError:
            return False
        return True

    async def get(self, path: str) -> httpx.Response:
        """The 200 response at `path`, retried on network errors, 5xx and 429, honouring Retry-After."""
        exponential = wait_exponential(multiplier=self.backoff, max=10)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            told = error.retry_after if isinstance(error, FetchError) else None
            return told if told is not None else exponential(state)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=wait,
            retry=retry_if_exception(lambda error: isinstance(error, FetchError) and error.transient),
            reraise=True,
        )
        return await retrying(self.get_once, path)

    async def get_once(self, path: str) -> httpx.Response:
        """One GET; a network error or timeout is a FetchError without a status, a non-200 one with it."""
        try:
            response = await self.client.get(path)
        except httpx.TimeoutException as error:
            raise FetchError(None, f"timed out: {type(error).__name__}") from error
        except httpx.TransportError as error:
            raise FetchError(None, f"network error: {type(error).__name__}: {error}") from error
        return check_status(response)
