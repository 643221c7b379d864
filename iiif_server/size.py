"""The size parameter: parsed into a frozen value, resolved against the region and the server limits."""

import math
from dataclasses import dataclass
from typing import Literal

from .errors import IIIFError, bad_request
from .numbers import parse_decimal, parse_int, round_half_up
from .rotation import Rotation
from .settings import Limits

SizeKind = Literal["max", "w", "h", "pct", "wh", "confined"]
NO_ROTATION = Rotation()


@dataclass(frozen=True)
class Size:
    """One of `max`, `w,`, `,h`, `pct:n`, `w,h`, `!w,h`, each optionally prefixed by `^`."""

    kind: SizeKind
    upscale: bool = False
    width: int = 0
    height: int = 0
    percent: float = 0.0


def parse_size(text: str) -> Size:
    """Parse the size segment or raise a 400."""
    upscale = text.startswith("^")
    body = text[1:] if upscale else text
    if body == "max":
        return Size("max", upscale)
    if body.startswith("pct:"):
        return Size("pct", upscale, percent=parse_decimal(body[4:], "size"))
    confined = body.startswith("!")
    if confined:
        body = body[1:]
    parts = body.split(",")
    if len(parts) != 2:
        raise bad_request("size", f"unknown size syntax {text!r}")
    w_text, h_text = parts
    if confined or (w_text and h_text):
        kind: SizeKind = "confined" if confined else "wh"
        return Size(kind, upscale, parse_int(w_text, "size"), parse_int(h_text, "size"))
    if w_text:
        return Size("w", upscale, width=parse_int(w_text, "size"))
    if h_text:
        return Size("h", upscale, height=parse_int(h_text, "size"))
    raise bad_request("size", f"unknown size syntax {text!r}")


def _limit_scale(width: float, height: float, limits: Limits) -> float:
    """The largest scale of a `width` x `height` image that stays within the limits (may exceed 1)."""
    scales = [math.inf]
    if limits.max_width:
        scales.append(limits.max_width / width)
    if limits.max_height:
        scales.append(limits.max_height / height)
    if limits.max_area:
        scales.append(math.sqrt(limits.max_area / (width * height)))
    return min(scales)


def _scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    """A `width` x `height` region at `scale`, in whole pixels."""
    # The epsilon keeps e.g. 161 * (100 / 161) = 99.999... from flooring to 99 instead of maxWidth 100.
    return max(1, math.floor(width * scale + 1e-9)), max(1, math.floor(height * scale + 1e-9))


def _fit_max(width: int, height: int, limits: Limits, upscale: bool, rotation: Rotation) -> tuple[int, int]:
    """`max` / `^max`: the region size, shrunk (or with `^` grown) to the largest size whose output, once
    rotated, the limits allow."""
    extent_w, extent_h = rotation.extent(width, height)
    scale = min(_limit_scale(extent_w, extent_h, limits), math.inf if upscale else 1.0)
    if scale == math.inf:
        return width, height
    # libvips rounds the rotated box: where that makes it a pixel too large, take a pixel less (long side).
    step = 1 / max(extent_w, extent_h)
    while scale > step and _over_limit(*rotation.output_size(*_scaled(width, height, scale)), limits):
        scale -= step
    return _scaled(width, height, scale)


def _requested(size: Size, width: int, height: int) -> tuple[int, int]:
    """The output size a non-`max` size asks for, before checks."""
    if size.kind == "w":
        return size.width, round_half_up(size.width * height / width)
    if size.kind == "h":
        return round_half_up(size.height * width / height), size.height
    if size.kind == "pct":
        return round_half_up(width * size.percent / 100), round_half_up(height * size.percent / 100)
    if size.kind == "wh":
        return size.width, size.height
    if size.width == 0 or size.height == 0:
        raise bad_request("size", "!w,h needs a width and height greater than zero")
    scale = min(size.width / width, size.height / height)
    return (
        min(size.width, max(1, round_half_up(width * scale))),
        min(size.height, max(1, round_half_up(height * scale))),
    )


def _over_limit(out_w: int, out_h: int, limits: Limits) -> str | None:
    """Which of maxWidth, maxHeight and maxArea an `out_w` x `out_h` image exceeds; None when it fits."""
    if limits.max_width and out_w > limits.max_width:
        return f"width {out_w} exceeds maxWidth {limits.max_width}"
    if limits.max_height and out_h > limits.max_height:
        return f"height {out_h} exceeds maxHeight {limits.max_height}"
    if limits.max_area and out_w * out_h > limits.max_area:
        return f"area {out_w * out_h} exceeds maxArea {limits.max_area}"
    return None


def _check_limits(out_w: int, out_h: int, limits: Limits, rotation: Rotation) -> None:
    """Refuse with a 413 an output whose image, once rotated, is larger than the limits."""
    rotated = rotation.output_size(out_w, out_h)
    reason = _over_limit(*rotated, limits)
    if reason and rotated != (out_w, out_h):
        reason += f" (the {out_w}x{out_h} image rotated by {rotation.canonical} degrees)"
    if reason:
        raise IIIFError(413, reason, "size")


def resolve_size(
    size: Size, width: int, height: int, limits: Limits, rotation: Rotation = NO_ROTATION
) -> tuple[int, int]:
    """The output width and height for a `width` x `height` region, or a 400/413: the limits hold for the
    image once rotated."""
    if size.kind == "max":
        return _fit_max(width, height, limits, size.upscale, rotation)
    out_w, out_h = _requested(size, width, height)
    if size.kind == "confined" and _limit_scale(width, height, limits) < math.inf:
        # `!w,h` is confined by the server's limits too: "not larger than w, h, or server-imposed limits".
        fit_w, fit_h = _fit_max(width, height, limits, True, rotation)
        if out_w > fit_w or out_h > fit_h:
            out_w, out_h = fit_w, fit_h
    if out_w <= 0 or out_h <= 0:
        raise bad_request("size", f"the requested size is {out_w}x{out_h}, which has no pixels")
    if not size.upscale and (out_w > width or out_h > height):
        raise bad_request(
            "size", f"{out_w}x{out_h} is larger than the {width}x{height} region; use ^ to upscale"
        )
    _check_limits(out_w, out_h, limits, rotation)
    return out_w, out_h


def canonical_size(out_w: int, out_h: int, width: int, height: int) -> str:
    """`max` when the output is the region's own size, else `w,h` (with `^` when upscaled)."""
    if (out_w, out_h) == (width, height):
        return "max"
    prefix = "^" if out_w > width or out_h > height else ""
    return f"{prefix}{out_w},{out_h}"
