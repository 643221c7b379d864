"""`/`: the public images of the folder, by what the client accepts: the HTML front page (`front_page.py`),
a JSON list of `{id, info}`, or plain text, one info.json URL a line. Private identifiers are never listed."""

from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from .errors import IIIFError
from .front_page import PAGE_SIZE, FrontPageImage, front_page, page_count, parse_page
from .route_table import IIIF_PREFIX
from .services import Services


class ImageIndex:
    """The index of the app's listed identifiers (`Services.listed_identifiers`)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def service_url(self, base: str, identifier: str) -> str:
        """The image's Image API 3.0 service URL."""
        return f"{base}{IIIF_PREFIX}{quote(identifier, safe='')}"

    async def answer(self, request: Request) -> Response:
        """HTML for `Accept: text/html` (browsers), JSON for `application/json`, else plain text."""
        base = self.services.base_url(request)
        identifiers = await run_in_threadpool(self.services.listed_identifiers)
        accept = request.headers.get("accept", "")
        headers = {"Vary": "Accept"}
        if "text/html" in accept:
            page = parse_page(request.query_params.get("page"), len(identifiers))
            shown = identifiers[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            images = await run_in_threadpool(self.front_page_images, base, shown)
            body = front_page(images, page, page_count(len(identifiers)), len(identifiers))
            return HTMLResponse(body, headers=headers)
        infos = [f"{self.service_url(base, identifier)}/info.json" for identifier in identifiers]
        if "application/json" in accept:
            listing = [{"id": i, "info": info} for i, info in zip(identifiers, infos, strict=True)]
            return JSONResponse(listing, headers=headers)
        return PlainTextResponse(
            "IIIF Image API 3.0 server. Images:\n" + "\n".join(infos) + "\n", headers=headers
        )

    def front_page_images(self, base: str, identifiers: list[str]) -> list[FrontPageImage]:
        """The listed images with their sizes and the extensions' links (blocking: it reads each image's
        header; an unreadable image is listed without a size)."""
        linkers = [e.image_links for e in self.services.extensions if e.image_links]
        images = []
        for identifier in identifiers:
            try:
                source = self.services.sources.folder.describe(identifier)
                size: tuple[int, int] | None = (source.width, source.height)
            except IIIFError:
                size = None
            links = tuple(link for linker in linkers for link in linker(base, identifier))
            images.append(FrontPageImage(identifier, self.service_url(base, identifier), size, links))
        return images
