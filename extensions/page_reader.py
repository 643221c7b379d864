"""Stage 1 and Stage 2 on any page (the folder's, an upstream IIIF server's, a job's upload): predicted line
polygons with stable ids and their text, cached per page version and model. One PageReader per app
(`shared_reader`), given a page described once; it asks the page's source for only the pixels each step
reads (the page at IIIF_OCR_DETECTION_SIDE for Stage 1, each line's box at its recipe's scale for Stage 2)."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from iiif_server.errors import IIIFError
from iiif_server.image_sources import PageSource
from iiif_server.plan import ImagePlan
from iiif_server.services import Services
from iiif_server.sources import LevelOpener, SourceImage

from .annotations.model import AnnotatedRegion
from .line_crops import LineCrop
from .ocr_settings import OCRSettings
from .page_reading import detect_structure, detection_plan, kept, planned_pixels, read_crop, read_lines
from .page_structure import LINE, lines_of, with_text
from .polygon_geometry import bounds, pixel_box
from .prediction_cache import PredictionCache, PredictionKey, prediction_key
from .region_lines import LineMode

T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """A page described once, and the source that reads its pixels: what every reading step is given."""

    identifier: str
    image: SourceImage
    source: PageSource

    async def pixels(self, image_plan: ImagePlan) -> LevelOpener:
        """What the pipeline reads the planned pixels from (fetched first on an upstream page)."""
        return await self.source.pixels(self.image, image_plan)


async def described(source: PageSource, identifier: str) -> Page:
    """The page an identifier names in `source`."""
    return Page(identifier, await source.describe(identifier), source)


class PageReader:
    """The models (a registry of the ONNX detector and recogniser), the OCR settings and the predictions
    cache; model calls and cache lookups run off the event loop, pixel fetches on it."""

    def __init__(self, registry: Any, settings: OCRSettings, cache: PredictionCache) -> None:
        self.registry = registry
        self.settings = settings
        self.cache = cache

    def filters(self, min_confidence: float | None, min_area: float | None) -> tuple[float, float]:
        """The request's filters, or the settings' defaults."""
        return (
            self.settings.min_confidence if min_confidence is None else min_confidence,
            self.settings.min_area if min_area is None else min_area,
        )

    async def _cached(self, key: PredictionKey, compute: Callable[[], Awaitable[T]]) -> T:
        found = await run_in_threadpool(self.cache.get, key)
        if found is None:
            found = await compute()
            await run_in_threadpool(self.cache.put, key, found)
        return found

    def _stage1_models(self) -> tuple[Any, Any]:
        """The line detector and the layout model (None when there is none)."""
        return self.registry.detector(), getattr(self.registry, "layout", lambda: None)()

    async def structure(self, page: Page) -> list[AnnotatedRegion]:
        """Stage 1, unfiltered: the page's blocks and lines (`page_structure`) in full-image pixels, with
        their ids, types and confidences."""
        detector, layout = self._stage1_models()

        async def detect() -> list[AnnotatedRegion]:
            image_plan = detection_plan(page.image, self.settings.detection_side)
            opener = await page.pixels(image_plan)
            return await run_in_threadpool(detect_structure, detector, layout, page.image, opener, image_plan)

        models = [model.manifest for model in (detector, layout) if model is not None]
        return await self._cached(prediction_key("structure", page.image, *models), detect)

    async def regions(
        self, page: Page, min_confidence: float | None = None, min_area: float | None = None
    ) -> list[AnnotatedRegion]:
        """Stage 1: the lines at or above the filters (the settings' defaults for those not given) and the
        blocks holding them."""
        return kept(await self.structure(page), *self.filters(min_confidence, min_area), page.image)

    async def read_page(
        self, page: Page, min_confidence: float | None = None, min_area: float | None = None
    ) -> list[AnnotatedRegion]:
        """Stage 2 on every line: the filtered structure, lines with their `text` and the text's confidence,
        text blocks with their lines' texts."""
        structure = await self.structure(page)
        stage1 = [model.manifest for model in self._stage1_models() if model is not None]
        models = (*stage1, self.registry.recognizer().manifest)
        read = await self._cached(
            prediction_key("structure-text", page.image, *models),
            lambda: self._read(page, lines_of(structure)),
        )
        return with_text(kept(structure, *self.filters(min_confidence, min_area), page.image), read)

    async def region(self, page: Page, region_id: str) -> AnnotatedRegion:
        """One predicted line or block by id (unfiltered); 404 naming the list URL when there is none."""
        for region in await self.structure(page):
            if region.id == region_id:
                return region
        listing = f"/iiif/3/{page.identifier}/regions.json"
        raise IIIFError(404, f"no predicted region {region_id!r}; see {listing}", "region")

    async def read_line(self, page: Page, region_id: str) -> tuple[str, float]:
        """The text of one predicted line, read as Stage 2 reads it; a block's is its lines' texts."""
        region = await self.region(page, region_id)
        if region.region_type != LINE:
            (block,) = [found for found in await self.read_page(page, 0.0, 0.0) if found.id == region_id]
            return block.text or "", block.confidence or 0.0
        (read,) = await self._read(page, [region])
        return read.text or "", read.confidence or 0.0

    async def read_region(self, page: Page, image_plan: ImagePlan, lines: LineMode) -> tuple[str, float]:
        """The text of any planned region's crop, read as one line or line by line (`read_crop`)."""
        opener = await page.pixels(image_plan)
        crop = await run_in_threadpool(planned_pixels, page.image, opener, image_plan)
        return await run_in_threadpool(read_crop, self.registry, crop, self.settings.min_confidence, lines)

    async def _read(self, page: Page, lines: list[AnnotatedRegion]) -> list[AnnotatedRegion]:
        """Recognise lines from their crops, cut as the recogniser's manifest says (mask, fill, deskew,
        height); an upstream page's line boxes are fetched together, each at the scale its cut reads."""
        recognizer = self.registry.recognizer()
        recipe = recognizer.manifest.crop
        cuts = [
            LineCrop(
                line.polygon,
                pixel_box(bounds(line.polygon)),
                recipe.target_height,
                recipe.mask_polygon,
                recipe.deskew,
                recipe.background,
            )
            for line in lines
        ]
        plans = [cut.plan(page.image) for cut in cuts]
        openers = await asyncio.gather(*(page.pixels(image_plan) for image_plan in plans))
        pixels = list(zip(cuts, plans, openers, strict=True))
        return await run_in_threadpool(read_lines, recognizer, page.image, lines, pixels)


def shared_reader(services: Services, registry: Any, settings: OCRSettings) -> PageReader:
    """The app's one PageReader on these models and settings (the OCR sidecars, `pred:` and /jobs share it),
    its predictions shared through the app's predictions cache."""

    def make() -> PageReader:
        cache = PredictionCache(settings.cache_mb << 20, settings.cache_size, services.caches.predictions)
        return PageReader(registry, settings, cache)

    return services.one((PageReader, registry, settings), make)
