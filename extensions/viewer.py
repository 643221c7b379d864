"""The viewer extension: Mirador 4 pages at `/viewer`, manifests at `/iiif/presentation/{id}/manifest.json`.

Mirador is the `mirador` npm package's self-contained UMD bundle, installed by `scripts/setup` (`npm ci` in
`viewer/`) and served from `viewer/node_modules`; nothing is fetched from the internet.
"""

import json
from html import escape
from pathlib import Path
from string import Template
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from iiif_server.app import PREFIX
from iiif_server.errors import IIIFError
from iiif_server.extension import Extension
from iiif_server.region import Box
from iiif_server.route_label import LabelledRoute, RouteLabel
from iiif_server.route_table import path_segments
from iiif_server.services import Services

from .annotations import iiif
from .presentation import PRESENTATION_PREFIX, manifest, manifest_id
from .presentation_v2 import MEDIA_TYPE_V2, VERSION_SEGMENT, manifest_v2, manifest_v2_id

VIEWER_FOLDER = Path(__file__).resolve().parent.parent / "viewer"
MIRADOR_BUNDLE = Path("node_modules/mirador/dist/mirador.min.js")
NOT_INSTALLED = "Mirador is not installed: run scripts/setup (it runs npm ci in viewer/)"
VIEWER = RouteLabel("viewer")
PANEL_SIDE = 1000
"""Longest side of the images in the region panel (larger regions are shown shrunk to fit)."""


def panel_size(box: Box) -> str:
    """The IIIF size that shows `box` whole in the panel, never larger than the region itself."""
    return "max" if max(box.width, box.height) <= PANEL_SIDE else f"!{PANEL_SIDE},{PANEL_SIDE}"


class ViewerPages:
    """The pages, the manifests and the Mirador bundle, rendered from the templates in `folder`, on the app's
    services (given when the app is built: `attach`)."""

    services: Services

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.templates = {
            name: Template((folder / "templates" / f"{name}.html").read_text(encoding="utf-8"))
            for name in ("index", "page", "panel", "panel_images", "panel_error")
        }

    def attach(self, services: Services) -> None:
        """Describe and list images through the app's sources and access rules."""
        self.services = services

    def routes(self) -> list[BaseRoute]:
        """The extension's routes; the assets come first so `/viewer/{identifier}` cannot shadow them."""
        return [
            Route("/viewer/assets/mirador.min.js", self.bundle),
            Mount("/viewer/assets", StaticFiles(directory=self.folder / "assets")),
            Route("/viewer", self.index),
            Route("/viewer/{rest:path}", self.dispatch),
            Route(PRESENTATION_PREFIX + "{rest:path}", self.manifest),
        ]

    async def bundle(self, request: Request) -> Response:
        """Mirador's UMD bundle from `viewer/node_modules`; 503 when the set-up has not installed it."""
        path = self.folder / MIRADOR_BUNDLE
        if not path.is_file():
            raise IIIFError(503, NOT_INSTALLED)
        return FileResponse(path, media_type="text/javascript")

    async def index(self, request: Request) -> Response:
        """The served images, each linking to its viewer page and manifest."""
        base = self.services.base_url(request)
        rows = "\n".join(
            f'<li><a href="{escape(base)}/viewer/{quote(i, safe="")}">{escape(i)}</a> '
            f'(<a href="{escape(manifest_id(base, i))}">manifest</a>)</li>'
            for i in await run_in_threadpool(self.services.listed_identifiers)
        )
        page = self.templates["index"].substitute(base=escape(base), rows=rows or "<li>no images</li>")
        return HTMLResponse(page)

    async def dispatch(self, request: Request) -> Response:
        """`/viewer/{identifier}` is the Mirador page, `/viewer/{identifier}/panel` its region panel alone."""
        segments = path_segments(request.scope, "/viewer/")
        if segments == [""]:
            return await self.index(request)
        if len(segments) == 1:
            return await self.page(request, segments[0])
        if len(segments) == 2 and segments[1] == "panel":
            body, status = await self.panel(request, segments[0])
            return HTMLResponse(body, status_code=status)
        raise IIIFError(404, "expected /viewer/{identifier} (a '/' in an identifier is written %2F)")

    async def page(self, request: Request, identifier: str) -> Response:
        """Mirador on the image's manifest, with the region panel beside it."""
        panel, status = await self.panel(request, identifier)
        if not (self.folder / MIRADOR_BUNDLE).is_file():
            raise IIIFError(503, NOT_INSTALLED)
        base = self.services.base_url(request)
        config = {
            "manifest": manifest_id(base, identifier),
            "panel": f"{base}/viewer/{quote(identifier, safe='')}/panel",
            "ocr": "ocr.json" in self.services.sidecar_names,
        }
        body = self.templates["page"].substitute(
            base=escape(base),
            title=escape(identifier),
            panel=panel,
            config=json.dumps(config).replace("<", "\\u003c"),
        )
        return HTMLResponse(body, status_code=status)

    async def panel(self, request: Request, identifier: str) -> tuple[str, int]:
        """The region panel: the form, and for `?region=` its bounding rectangle beside its masked image (the
        viewer page starts with it, so its access check covers the page too)."""
        services = self.services
        source = await services.describe_for(request, identifier)
        region = request.query_params.get("region", "").strip()
        fields = {"region": escape(region, quote=True), "regions_json": "regions.json", "images": ""}
        service = escape(f"{services.base_url(request)}{PREFIX}{quote(identifier, safe='')}")
        if "regions.json" in services.sidecar_names:
            fields["regions_json"] = f'<a href="{service}/regions.json">regions.json</a>'
        if not region:
            return self.templates["panel"].substitute(fields), 200
        try:
            image_request = services.parse(identifier, region, "max", "0", "default.png")
            image_plan = await run_in_threadpool(services.plan, image_request, source)
        except IIIFError as error:
            fields["images"] = self.templates["panel_error"].substitute(reason=escape(str(error)))
            return self.templates["panel"].substitute(fields), error.status
        box = image_plan.region.box
        size = panel_size(box)
        masked = f"{service}/{quote(region, safe=':,;')}"
        fields["images"] = self.templates["panel_images"].substitute(
            box=box.as_text(),
            original=f"{service}/{box.as_text()}/{size}/0/default.jpg",
            masked=f"{masked}/{size}/0/default.png",
            text=f'<a href="{masked}/ocr">its text</a>' if "ocr" in services.sidecar_names else "",
        )
        return self.templates["panel"].substitute(fields), 200

    async def manifest(self, request: Request) -> Response:
        """`/iiif/presentation/{identifier}/manifest.json`: one canvas showing the image, OCR attached;
        `/iiif/presentation/2/{identifier}/manifest.json` the same in Presentation 2.1."""
        segments = path_segments(request.scope, PRESENTATION_PREFIX)
        v2 = len(segments) == 3 and segments[0] == VERSION_SEGMENT
        if v2:
            segments = segments[1:]
        if len(segments) != 2 or segments[1] != "manifest.json":
            raise IIIFError(404, "expected /iiif/presentation/[2/]{identifier}/manifest.json")
        services = self.services
        source = await services.describe_for(request, segments[0])
        with_ocr = "ocr.json" in services.sidecar_names
        build, media_type = (manifest_v2, MEDIA_TYPE_V2) if v2 else (manifest, iiif.MEDIA_TYPE)
        document = build(services.base_url(request), segments[0], source.width, source.height, with_ocr)
        return JSONResponse(document, media_type=media_type)


def viewer_links(base_url: str, identifier: str) -> list[tuple[str, str]]:
    """The front page's links to an image's viewer page and manifest."""
    return [
        ("viewer", f"{base_url}/viewer/{quote(identifier, safe='')}"),
        ("manifest", manifest_id(base_url, identifier)),
        ("manifest 2.1", manifest_v2_id(base_url, identifier)),
    ]


def viewer_extension(folder: Path = VIEWER_FOLDER) -> Extension:
    """Build the extension on the viewer folder (templates, assets and the installed Mirador); a page's
    `?region=` is in its syntax's IIIF_PROTECT group (`pred:` runs the detector)."""
    pages = ViewerPages(folder)
    routes = [LabelledRoute(route, VIEWER, region_parameter="region") for route in pages.routes()]
    return Extension(name="viewer", routes=routes, attach=pages.attach, image_links=viewer_links)
