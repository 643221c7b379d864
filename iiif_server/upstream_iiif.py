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


# libvips' largest image side (VIPS_MAX_COORD); an upstream claiming more is not telling the truth.
MAX_SIDE = 10_000_000


def _level2(profile: Any) -> bool:
    return isinstance(profile, str) and "level2" in profile


def _strings(value: Any) -> list[str]:
    """The strings of a JSON list (anything else is no list of names)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _bad(reason: str) -> IIIFError:
    return IIIFError(502, f"upstream info.json is unusable: {reason}", "identifier")


def _count(value: Any, name: str, upper: int = MAX_SIDE) -> int:
    """A JSON integer from 1 to `upper` (not a boolean, float or string); 502 otherwise."""
    if type(value) is not int or not 1 <= value <= upper:
        raise _bad(f"{name} is not an integer from 1 to {upper}")
    return value


def _optional_count(limits: dict[str, Any], name: str, upper: int = MAX_SIDE) -> int | None:
    """An optional limit: absent or null is none, anything else must be a valid count."""
    value = limits.get(name)
    return None if value is None else _count(value, name, upper)


def _sizes(value: Any) -> tuple[tuple[int, int], ...]:
    """The advertised `sizes`: a list of {width, height} objects, or absent."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(s, dict) for s in value):
        raise _bad("sizes is not a list of objects")
    return tuple(
        (_count(s.get("width"), "sizes width"), _count(s.get("height"), "sizes height")) for s in value
    )


def parse_info(data: bytes, base: str) -> UpstreamInfo:
    """Parse an upstream info.json strictly: width, height, sizes and limits (where present) must be JSON
    integers from 1 to MAX_SIDE (MAX_SIDE² for maxArea); 502 when anything is malformed."""
    try:
        info = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise _bad("not JSON") from error
    if not isinstance(info, dict):
        raise _bad("not a JSON object")
    width, height = _count(info.get("width"), "width"), _count(info.get("height"), "height")
    context = json.dumps(info.get("@context", ""))
    version = 3 if "image/3" in context or info.get("type") == "ImageService3" else 2
    if version == 3:
        limits, png = info, _level2(info.get("profile")) or "png" in _strings(info.get("extraFormats"))
    else:
        profiles = info.get("profile") or []
        profiles = profiles if isinstance(profiles, list) else [profiles]
        extras = [p for p in profiles if isinstance(p, dict)]
        limits = {k: v for p in extras for k, v in p.items()}
        png = any(_level2(p) for p in profiles) or any("png" in _strings(p.get("formats")) for p in extras)
    max_width = _optional_count(limits, "maxWidth")
    max_height = _optional_count(limits, "maxHeight")
    return UpstreamInfo(
        base.rstrip("/"),
        version,
        width,
        height,
        _sizes(info.get("sizes")),
        png,
        max_width,
        max_height or max_width,
        _optional_count(limits, "maxArea", MAX_SIDE * MAX_SIDE),
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
