"""Images on upstream IIIF servers: identifiers routed by prefix (`loc:id`) or given as a service URL,
described from the upstream info.json and read region by region, both through the caches."""

import hashlib
import itertools
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pyvips

from .cache import Caches
from .decode_guard import check_decodable, check_pixel_count
from .errors import IIIFError, bad_request
from .pipeline import level_window
from .plan import ImagePlan
from .region import Box
from .sources import Level, SourceImage
from .upstream_client import UpstreamClient
from .upstream_iiif import UpstreamInfo, listed_size, parse_info, region_url, within_limits
from .upstream_settings import UpstreamSettings

log = logging.getLogger(__name__)

LOADER = "iiif-upstream"
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class RemoteImage(SourceImage):
    """A SourceImage whose pixels are on an upstream IIIF server (`path` is its service URL, `identity` a
    digest of its info.json: the upstream image's version, which cached predictions are keyed on)."""

    service: UpstreamInfo
    identity: str

    @property
    def version(self) -> str:
        """The info.json's digest: the time it was fetched changes with every refresh, the image need not."""
        return self.identity


class FetchedWindow:
    """A LevelOpener for one planned request: the fetched pixels placed in a virtual level of the image."""

    def __init__(self, image: pyvips.Image, level_w: int, level_h: int, x: int, y: int) -> None:
        self.image, self.level_w, self.level_h, self.x, self.y = image, level_w, level_h, x, y

    def open(self, source: SourceImage, level: Level, shrink: int = 1) -> pyvips.Image:
        """The level, lazily: the pipeline crops exactly the fetched window out of it."""
        return self.image.embed(self.x, self.y, self.level_w, self.level_h, extend="copy")


class RemoteSource:
    """Routes identifiers to upstream image services and fetches what a planned request needs."""

    def __init__(self, settings: UpstreamSettings, caches: Caches, max_source_pixels: int) -> None:
        self.settings = settings
        self.caches = caches
        self.client = UpstreamClient(settings)
        self.max_source_pixels = max_source_pixels

    def service_url(self, identifier: str) -> str | None:
        """The upstream image service an identifier names (`prefix:id` or an http(s) URL), else None; 400 for
        control characters. Whether the URL may be fetched is the upstream client's check."""
        if identifier.startswith(("http://", "https://")):
            service = identifier.removesuffix("/info.json").rstrip("/")
        else:
            prefix, separator, rest = identifier.partition(":")
            if not (separator and rest and prefix in self.settings.upstreams):
                return None
            service = self.settings.upstreams[prefix] + quote(rest, safe=":")
        if CONTROL_CHARACTERS.search(identifier):
            raise bad_request("identifier", "an upstream identifier may not contain control characters")
        return service

    async def describe(self, service: str) -> RemoteImage:
        """The upstream image's size, from its info.json (cached with the time it was fetched)."""
        cached = await self.caches.info.aget(service)
        if cached is None:
            body = await self.client.get(f"{service}/info.json", "info")
            info = parse_info(body, service)  # checked before it is cached
            cached = json.dumps({"fetched": time.time(), "info": json.loads(body)}).encode()
            await self.caches.info.aset(service, cached)
        entry = json.loads(cached)
        info = parse_info(json.dumps(entry["info"]).encode(), service)
        check_pixel_count(info.width, info.height, self.max_source_pixels)
        level = Level(info.width, info.height)
        identity = hashlib.sha256(json.dumps(entry["info"], sort_keys=True).encode()).hexdigest()[:32]
        return RemoteImage(Path(service), LOADER, (level,), float(entry["fetched"]), 0, info, identity)

    async def pixels(self, source: RemoteImage, image_plan: ImagePlan) -> FetchedWindow:
        """Fetch the planned box at the smallest size that still gives the output, as a LevelOpener."""
        info, box = source.service, image_plan.region.box
        out_w, out_h = min(image_plan.width, box.width), min(image_plan.height, box.height)
        level_w, level_h = fitting_level(source, image_plan.region.box, out_w, out_h)
        full = (box.x, box.y, box.width, box.height) == (0, 0, info.width, info.height)
        listed = listed_size(info, level_w, level_h) if full else None
        if listed:
            level_w, level_h = listed
        x, y, width, height = level_window(source, box, level_w, level_h)
        image_format = "png" if info.png and image_plan.format != "jpg" else "jpg"
        url = region_url(info, box, *within_limits(info, width, height), image_format)
        body = await self.caches.regions.aget(url)
        if body is None:
            body = await self.client.get(url, "image")
            image = decode(body, self.max_source_pixels)  # checked before it is cached
            await self.caches.regions.aset(url, body)
        else:
            image = decode(body, self.max_source_pixels)
        if (image.width, image.height) != (width, height):
            image = image.resize(width / image.width, vscale=height / image.height)
        return FetchedWindow(image, level_w, level_h, x, y)


def fitting_level(source: SourceImage, box: Box, out_w: int, out_h: int) -> tuple[int, int]:
    """The size of a virtual level whose window on `box` is `out_w` x `out_h` where rounding allows it, so
    that the pipeline crops the fetched pixels without resampling them again."""
    level_w, level_h = round(source.width * out_w / box.width), round(source.height * out_h / box.height)
    for dw, dh in itertools.product((0, -1, 1, -2, 2), repeat=2):
        if level_window(source, box, level_w + dw, level_h + dh)[2:] == (out_w, out_h):
            return level_w + dw, level_h + dh
    return max(1, level_w), max(1, level_h)


def undecodable(error: pyvips.Error) -> IIIFError:
    """502 for bytes that are not a whole image; libvips' reason goes to the log only."""
    log.warning("upstream sent an undecodable image: %s", " ".join(str(error).split())[:200])
    return IIIFError(502, "upstream sent an undecodable image", "identifier")


def open_checked(body: bytes, max_pixels: int) -> pyvips.Image:
    """Upstream image bytes opened lazily, refused from the header alone (413 for more than `max_pixels`,
    501 for a loader that is not a served raster format) before any pixel is decoded."""
    try:
        image = pyvips.Image.new_from_buffer(body, "", access="sequential", fail_on="truncated")
    except pyvips.Error as error:
        raise undecodable(error) from error
    check_decodable(image, max_pixels)
    return image


def decode(body: bytes, max_pixels: int) -> pyvips.Image:
    """Checked upstream image bytes decoded into memory; 502 when they are not a whole image."""
    image = open_checked(body, max_pixels)
    try:
        return image.copy_memory()
    except pyvips.Error as error:
        raise undecodable(error) from error
