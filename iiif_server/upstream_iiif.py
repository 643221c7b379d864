"""The IIIF side of an upstream Image API service (2.x or 3.0): its info.json and the URL of one region."""

import json
import math
from dataclasses import dataclass
from typing import Any

from .errors import IIIFError
from .region import Box


@dataclass(frozen=True)
class UpstreamInfo:
    """What the server needs from an upstream info.json."""

    base: str  # the image service URL, without a trailing slash
    version: int  # 2 or 3
    width: int
    height: int
    sizes: tuple[tuple[int, int], ...] = ()
    png: bool = False
    max_width: int | None = None
    max_height: int | None = None
    max_area: int | None = None


def _level2(profile: Any) -> bool:
    return isinstance(profile, str) and "level2" in profile


def parse_info(data: bytes, base: str) -> UpstreamInfo:
    """Parse an upstream info.json (502 when it is not one)."""
    try:
        info = json.loads(data)
        width, height = int(info["width"]), int(info["height"])
    except (ValueError, KeyError, TypeError) as error:
        raise IIIFError(502, f"upstream info.json is unreadable: {error!r}", "identifier") from error
    context = json.dumps(info.get("@context", ""))
    version = 3 if "image/3" in context or info.get("type") == "ImageService3" else 2
    if version == 3:
        limits, png = info, _level2(info.get("profile")) or "png" in info.get("extraFormats", [])
    else:
        profiles = info.get("profile") or []
        profiles = profiles if isinstance(profiles, list) else [profiles]
        extras = [p for p in profiles if isinstance(p, dict)]
        limits = {k: v for p in extras for k, v in p.items()}
        png = any(_level2(p) for p in profiles) or any("png" in p.get("formats", []) for p in extras)
    sizes = tuple(
        (int(s["width"]), int(s["height"])) for s in info.get("sizes") or [] if "width" in s and "height" in s
    )
    return UpstreamInfo(
        base.rstrip("/"),
        version,
        width,
        height,
        sizes,
        png,
        limits.get("maxWidth"),
        limits.get("maxHeight") or limits.get("maxWidth"),
        limits.get("maxArea"),
    )


def within_limits(info: UpstreamInfo, width: int, height: int) -> tuple[int, int]:
    """`width` x `height`, shrunk (keeping the aspect ratio) to what the upstream will serve."""
    factor = min(
        1.0,
        (info.max_width or width) / width,
        (info.max_height or height) / height,
        math.sqrt((info.max_area or width * height) / (width * height)),
    )
    return max(1, math.floor(width * factor)), max(1, math.floor(height * factor))


def listed_size(info: UpstreamInfo, width: int, height: int) -> tuple[int, int] | None:
    """The smallest of the upstream's advertised full-image `sizes` at least `width` x `height`."""
    fitting = [s for s in info.sizes if s[0] >= width and s[1] >= height]
    return min(fitting, default=None)


def region_url(info: UpstreamInfo, box: Box, width: int, height: int, image_format: str) -> str:
    """The upstream URL of `box` (full-image pixels) at `width` x `height`, in the upstream's syntax."""
    full = (box.x, box.y, box.width, box.height) == (0, 0, info.width, info.height)
    region = "full" if full else f"{box.x},{box.y},{box.width},{box.height}"
    native = (width, height) == (box.width, box.height)
    if info.version == 3:
        size = "max" if native else f"{width},{height}"
    else:
        size = "full" if native else f"{width},"
    return f"{info.base}/{region}/{size}/0/default.{image_format}"
