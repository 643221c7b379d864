"""OCR sidecars under `/iiif/3/{id}/`: regions.json, ocr.json, ocr.alto.xml, ocr.page.xml, {region}/ocr."""

from collections.abc import Callable
from urllib.parse import quote

import pyvips
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from iiif_server.app import PREFIX, IIIFImageAPI
from iiif_server.errors import IIIFError
from iiif_server.image_request import ImageRequest
from iiif_server.numbers import parse_decimal
from iiif_server.pipeline import build_image
from iiif_server.pixel_errors import reading_pixels
from iiif_server.plan import plan
from iiif_server.settings import Limits

from .annotations import alto_xml, iiif, page_xml
from .annotations.model import AnnotatedRegion
from .line_crops import to_array
from .page_reader import PageReader

JSONLD = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
REGION_OCR_SIDE = 4000


def canvas_id(base_url: str, identifier: str) -> str:
    """The id of the Presentation 3 canvas that shows this image (annotations target it)."""
    return f"{base_url}/iiif/presentation/{quote(identifier, safe='')}/canvas/1"


def _filters(request: Request) -> tuple[float | None, float | None]:
    """`min_confidence` and `min_area` from the query string."""
    texts = {name: request.query_params.get(name) for name in ("min_confidence", "min_area")}
    confidence, area = (None if text is None else parse_decimal(text, name) for name, text in texts.items())
    return confidence, area


def _identifier(segments: list[str]) -> str:
    if len(segments) != 1:
        raise IIIFError(404, "not a sidecar path")
    return segments[0]


class OCRSidecars:
    """The sidecar handlers, sharing one PageReader."""

    def __init__(self, reader: PageReader) -> None:
        self.reader = reader

    def handlers(self) -> dict[str, Callable]:
        """Handlers keyed by the last path segment."""
        return {
            "regions.json": self.regions_json,
            "ocr.json": self.ocr_json,
            "ocr.alto.xml": self.alto,
            "ocr.page.xml": self.page,
            "ocr": self.region_ocr,
        }

    async def _page(
        self, request: Request, segments: list[str], read: bool
    ) -> tuple[str, list[AnnotatedRegion]]:
        identifier = _identifier(segments)
        method = self.reader.read_page if read else self.reader.regions
        return identifier, await run_in_threadpool(method, identifier, *_filters(request))

    async def regions_json(self, request: Request, segments: list[str]) -> Response:
        """Stage 1 as a IIIF AnnotationPage: one tagging annotation per region, linking its masked image."""
        identifier, regions = await self._page(request, segments, read=False)
        base = request.app.state.iiif.base_url(request)
        service = f"{base}{PREFIX}{quote(identifier, safe='')}"
        page = iiif.annotation_page(
            f"{service}/regions.json",
            canvas_id(base, identifier),
            regions,
            "tagging",
            see_also=lambda region: f"{service}/pred:{region.id}/max/0/default.png",
        )
        return JSONResponse(page, media_type=JSONLD)

    async def ocr_json(self, request: Request, segments: list[str]) -> Response:
        """Stage 2 as a IIIF AnnotationPage of `supplementing` TextualBody annotations."""
        identifier, regions = await self._page(request, segments, read=True)
        base = request.app.state.iiif.base_url(request)
        service = f"{base}{PREFIX}{quote(identifier, safe='')}"
        page = iiif.annotation_page(
            f"{service}/ocr.json", canvas_id(base, identifier), regions, "supplementing"
        )
        return JSONResponse(page, media_type=JSONLD)

    async def alto(self, request: Request, segments: list[str]) -> Response:
        """The page's OCR as ALTO XML."""
        identifier, regions = await self._page(request, segments, read=True)
        source = self.reader.source.describe(identifier)
        body = alto_xml.serialize(regions, source.path.name, (source.width, source.height))
        return Response(body, media_type="application/xml")

    async def page(self, request: Request, segments: list[str]) -> Response:
        """The page's OCR as PAGE XML."""
        identifier, regions = await self._page(request, segments, read=True)
        source = self.reader.source.describe(identifier)
        body = page_xml.serialize(regions, source.path.name, (source.width, source.height))
        return Response(body, media_type="application/xml")

    async def region_ocr(self, request: Request, segments: list[str]) -> Response:
        """The text of any region (`x,y,w,h`, `pct:`, `poly:`, `pred:`), read from its masked crop."""
        if len(segments) != 2:
            raise IIIFError(404, "expected /iiif/3/{identifier}/{region}/ocr")
        identifier, region_text = segments
        api: IIIFImageAPI = request.app.state.iiif
        image_request = api.parse(identifier, region_text, "max", "0", "default.png")
        text, confidence = await run_in_threadpool(self._read_region, image_request, region_text)
        return JSONResponse({"text": text, "confidence": confidence, "region": region_text})

    def _read_region(self, image_request: ImageRequest, region_text: str) -> tuple[str, float]:
        reader = self.reader
        if region_text.startswith("pred:"):
            return reader.read_predicted(image_request.identifier, region_text[5:])
        source = reader.source.describe(image_request.identifier)
        image_plan = plan(
            image_request, source.width, source.height, Limits(REGION_OCR_SIDE, REGION_OCR_SIDE, None)
        )
        with reading_pixels(source.path):
            image: pyvips.Image = build_image(source, reader.source, image_plan)
            if image.hasalpha():
                image = image.flatten(background=[255] * (image.bands - 1))
            crop = to_array(image)
        return reader.read_crop(crop)
