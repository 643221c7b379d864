"""OCR sidecars under `/iiif/3/{id}/` (regions.json, ocr.json, ocr.alto.xml, ocr.page.xml, {region}/ocr) and
the `pred:` lookups, on any image served (the folder's or an upstream IIIF server's), described once."""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from iiif_server.app import PREFIX
from iiif_server.errors import IIIFError
from iiif_server.numbers import parse_decimal
from iiif_server.services import Services
from iiif_server.settings import Limits

from .annotations import alto_xml, iiif, page_xml
from .annotations.model import AnnotatedRegion
from .ocr_settings import OCRSettings
from .page_reader import Page, PageReader, described, shared_reader
from .page_structure import blocks_of, lines_of, text_regions
from .region_lines import line_mode

REGION_OCR_SIDE = 4000
GRANULARITIES = {"line": lines_of, "block": blocks_of}
"""What `regions.json?granularity=` lists: the text lines (the default), or the blocks with their types."""


def canvas_id(base_url: str, identifier: str) -> str:
    """The id of the Presentation 3 canvas that shows this image (annotations target it)."""
    return f"{base_url}/iiif/presentation/{quote(identifier, safe='')}/canvas/1"


def _filters(request: Request) -> tuple[float | None, float | None]:
    """`min_confidence` and `min_area` from the query string."""
    texts = {name: request.query_params.get(name) for name in ("min_confidence", "min_area")}
    confidence, area = (None if text is None else parse_decimal(text, name) for name, text in texts.items())
    return confidence, area


def _granularity(request: Request) -> str:
    """`granularity` from the query string: `line` (the default) or `block`."""
    granularity = request.query_params.get("granularity", "line")
    if granularity not in GRANULARITIES:
        raise IIIFError(400, f"granularity must be one of {', '.join(GRANULARITIES)}", "granularity")
    return granularity


def _identifier(segments: list[str]) -> str:
    if len(segments) != 1:
        raise IIIFError(404, "not a sidecar path")
    return segments[0]


class OCRSidecars:
    """The sidecar handlers and `pred:` lookups, on the app's services and its one PageReader (both given
    when the app is built: `attach`)."""

    services: Services
    reader: PageReader

    def __init__(self, registry: Any, settings: OCRSettings) -> None:
        self.registry = registry
        self.settings = settings

    def attach(self, services: Services) -> None:
        """Read pages from the app's image sources with the app's one PageReader."""
        self.services = services
        self.reader = shared_reader(services, self.registry, self.settings)

    def handlers(self) -> dict[str, Callable]:
        """Handlers keyed by the last path segment."""
        return {
            "regions.json": self.regions_json,
            "ocr.json": self.ocr_json,
            "ocr.alto.xml": self.alto,
            "ocr.page.xml": self.page,
            "ocr": self.region_ocr,
        }

    async def predicted(self, identifier: str, region_id: str) -> AnnotatedRegion:
        """The predicted line or block `region_id` of an image (a `pred:` region's polygon)."""
        return await self.reader.region(await described(self.services.sources, identifier), region_id)

    async def _read(
        self, request: Request, segments: list[str], text: bool
    ) -> tuple[Page, list[AnnotatedRegion]]:
        page = await described(self.services.sources, _identifier(segments))
        read = self.reader.read_page if text else self.reader.regions
        return page, await read(page, *_filters(request))

    def _annotations(
        self, request: Request, page: Page, name: str, regions: list[AnnotatedRegion]
    ) -> Response:
        """Regions as a IIIF AnnotationPage: `tagging` lines linking their masked images, or `supplementing`
        TextualBody annotations with the text."""
        base = self.services.base_url(request)
        service = f"{base}{PREFIX}{quote(page.identifier, safe='')}"
        tagging = name == "regions.json"
        document = iiif.annotation_page(
            f"{service}/{name}",
            canvas_id(base, page.identifier),
            regions,
            "tagging" if tagging else "supplementing",
            see_also=(lambda region: f"{service}/pred:{region.id}/max/0/default.png") if tagging else None,
        )
        return JSONResponse(document, media_type=iiif.MEDIA_TYPE)

    async def regions_json(self, request: Request, segments: list[str]) -> Response:
        """Stage 1 as a IIIF AnnotationPage: one tagging annotation per line or block (`?granularity=`),
        tagged with its type and linking its masked image."""
        granularity = _granularity(request)
        page, regions = await self._read(request, segments, text=False)
        return self._annotations(request, page, "regions.json", GRANULARITIES[granularity](regions))

    async def ocr_json(self, request: Request, segments: list[str]) -> Response:
        """Stage 2 as a IIIF AnnotationPage of `supplementing` TextualBody annotations: each text block
        (`textGranularity: block`) followed by its lines (`line`)."""
        page, regions = await self._read(request, segments, text=True)
        return self._annotations(request, page, "ocr.json", text_regions(regions))

    async def alto(self, request: Request, segments: list[str]) -> Response:
        """The page's OCR as ALTO XML."""
        page, regions = await self._read(request, segments, text=True)
        size = (page.image.width, page.image.height)
        return Response(alto_xml.serialize(regions, page.image.path.name, size), media_type="application/xml")

    async def page(self, request: Request, segments: list[str]) -> Response:
        """The page's OCR as PAGE XML."""
        page, regions = await self._read(request, segments, text=True)
        size = (page.image.width, page.image.height)
        return Response(page_xml.serialize(regions, page.image.path.name, size), media_type="application/xml")

    async def region_ocr(self, request: Request, segments: list[str]) -> Response:
        """The text of any region (`x,y,w,h`, `pct:`, `poly:`, `pred:`), read from its masked crop: as one
        line or line by line (`?lines=`); a `pred:` region is one line."""
        if len(segments) != 2:
            raise IIIFError(404, "expected /iiif/3/{identifier}/{region}/ocr")
        identifier, region_text = segments
        lines = line_mode(request.query_params.get("lines"))
        image_request = self.services.parse(identifier, region_text, "max", "0", "default.png")
        page = await described(self.services.sources, identifier)
        if region_text.startswith("pred:"):
            text, confidence = await self.reader.read_line(page, region_text[5:])
        else:
            limits = Limits(REGION_OCR_SIDE, REGION_OCR_SIDE, None)
            image_plan = await run_in_threadpool(self.services.plan, image_request, page.image, limits)
            text, confidence = await self.reader.read_region(page, image_plan, lines)
        return JSONResponse({"text": text, "confidence": confidence, "region": region_text})
