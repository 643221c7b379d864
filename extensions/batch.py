"""`POST /mask/batch`: many masked regions of one page, streamed as a zip or returned as JSON."""

import asyncio
import base64
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from iiif_server.formats import MEDIA_TYPES
from iiif_server.json_body import read_json
from iiif_server.plan import ImagePlan
from iiif_server.remote_source import RemoteImage
from iiif_server.services import Services
from iiif_server.sources import DecodedOnce, LevelOpener

from .batch_request import BatchRequest, RejectedItem, batch_identifier, parse_batch
from .mask_settings import MaskSettings
from .polygon_geometry import masked_area
from .region_extraction import Extracted, ExtractionOptions, RegionRequest, extract_region
from .zip_stream import ZipStream


def skip_reason(item: RegionRequest, batch: BatchRequest, image_size: tuple[int, int]) -> str | None:
    """Why the batch's `min_confidence` / `min_area` filters leave this item out, if they do; the area is the
    one `min_area` measure (`masked_area`: the repaired polygon inside the image, its `polygon_area`)."""
    if batch.min_confidence is not None and (item.confidence or 0.0) < batch.min_confidence:
        return f"confidence {item.confidence} below min_confidence {batch.min_confidence}"
    if batch.min_area is not None and masked_area([item.polygon], *image_size) < batch.min_area:
        return f"polygon area below min_area {batch.min_area}"
    return None


async def ordered_map(
    function: Callable[[Any], Extracted], items: Iterable[Any], threads: int
) -> AsyncIterator[Extracted]:
    """Run `function` over `items` on a thread pool, at most 2 x threads in flight, yielding in order."""
    loop = asyncio.get_running_loop()
    iterator = iter(items)
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mask-batch") as pool:
        pending: deque[asyncio.Future[Extracted]] = deque()
        for item in iterator:
            pending.append(loop.run_in_executor(pool, function, item))
            if len(pending) >= 2 * threads:
                break
        while pending:
            result = await pending.popleft()
            following = next(iterator, None)
            if following is not None:
                pending.append(loop.run_in_executor(pool, function, following))
            yield result


class MaskBatchEndpoint:
    """Parses a batch, describes its page once, extracts every item on a thread pool and reports each one;
    the app's services are given when the app is built (`attach`)."""

    services: Services

    def __init__(self, settings: MaskSettings) -> None:
        self.settings = settings

    def attach(self, services: Services) -> None:
        """Read pages through the app's image sources and access rules."""
        self.services = services

    async def __call__(self, request: Request) -> Response:
        services = self.services
        body = await read_json(request)
        identifier = batch_identifier(body, request.url.netloc)
        source = await services.describe_for(request, identifier)
        size = (source.width, source.height)
        batch = await run_in_threadpool(parse_batch, body, identifier, size, self.settings.max_batch_size)
        opener = DecodedOnce(services.sources.folder)
        loop = asyncio.get_running_loop()

        def open_for(image_plan: ImagePlan) -> LevelOpener:
            """The folder's levels decoded once (a JPEG 2000's window per item), or (upstream images) the
            item's box fetched on the loop."""
            if isinstance(source, RemoteImage):
                fetch = services.sources.pixels(source, image_plan)
                return asyncio.run_coroutine_threadsafe(fetch, loop).result()
            return services.sources.local.opener(source, image_plan, opener)

        limits = services.access.limits_for(request)
        options = ExtractionOptions(
            batch.format, batch.quality, batch.background, services.encode_options, limits
        )

        def process(item: RegionRequest | RejectedItem) -> Extracted:
            entry = {"annotation_id": item.id, "source_image": batch.identifier}
            if isinstance(item, RejectedItem):
                return Extracted({**entry, "status": "error", "error": item.reason}, None)
            if len(item.polygon) > self.settings.max_polygon_vertices:  # the URL syntax's limit, per item
                limit = self.settings.max_polygon_vertices
                reason = f"region: more than IIIF_MAX_POLYGON_VERTICES={limit} vertices"
                return Extracted({**entry, "status": "error", "error": reason}, None)
            reason = skip_reason(item, batch, size)
            if reason:
                return Extracted({**entry, "status": "filtered", "error": reason}, None)
            return extract_region(item, batch.identifier, source, open_for, options)

        results = ordered_map(process, batch.items, self.settings.batch_threads)
        if batch.output_format == "json":
            return JSONResponse(await json_document(results, batch))
        headers = {"Content-Disposition": f'attachment; filename="{safe_name(batch.identifier)}-masks.zip"'}
        return StreamingResponse(zip_chunks(results, batch), media_type="application/zip", headers=headers)


def safe_name(text: str) -> str:
    """A file-name-safe version of an identifier or annotation id."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip(".") or "item"


async def zip_chunks(results: AsyncIterator[Extracted], batch: BatchRequest) -> AsyncIterator[bytes]:
    """One image per successful item, then `metadata.jsonl` with a line for every item."""
    archive = ZipStream()
    lines = []
    async for index, extracted in aenumerate(results):
        metadata = dict(extracted.metadata)
        if extracted.image is not None:
            metadata["file"] = f"{index:05d}_{safe_name(metadata['annotation_id'])}.{batch.format}"
            yield archive.add(metadata["file"], extracted.image)
        lines.append(json.dumps(metadata))
    yield archive.add("metadata.jsonl", "".join(f"{line}\n" for line in lines).encode(), compress=True)
    yield archive.close()


async def json_document(results: AsyncIterator[Extracted], batch: BatchRequest) -> dict[str, Any]:
    """Every item's metadata, with its image as base64 where it succeeded."""
    items = []
    async for extracted in results:
        entry = dict(extracted.metadata)
        if extracted.image is not None:
            entry["media_type"] = MEDIA_TYPES[batch.format]
            entry["image_base64"] = base64.b64encode(extracted.image).decode()
        items.append(entry)
    counts = {status: sum(i["status"] == status for i in items) for status in ("ok", "error", "filtered")}
    return {"source_image": batch.identifier, "counts": counts, "items": items}


async def aenumerate(iterator: AsyncIterator[Extracted]) -> AsyncIterator[tuple[int, Extracted]]:
    """`enumerate` for async iterators."""
    index = 0
    async for value in iterator:
        yield index, value
        index += 1
