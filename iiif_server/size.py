"""The size parameter: parsed into a frozen value, resolved against the region and the server limits."""

import math
from dataclasses import dataclass
from typing import Literal

from .errors import IIIFError, bad_request
from .numbers import parse_decimal, parse_int, round_half_up
from .settings import Limits

SizeKind = Literal["max", "w", "h", "pct", "wh", "confined"]


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


def _limit_scale(width: int, height: int, limits: Limits) -> float:
    """The largest scale of a `width` x `height` image that stays within the limits (may exceed 1)."""
    scales = [math.inf]
    if limits.max_width:
        scales.append(limits.max_width / width)
    if limits.max_height:
        scales.append(limits.max_height / height)
    if limits.max_area:
        scales.append(math.sqrt(limits.max_area / (width * height)))
    return min(scales)


def _fit_max(width: int, height: int, limits: Limits, upscale: bool) -> tuple[int, int]:
    """`max` / `^max`: the region size, shrunk (or with `^` grown) to the largest size the limits allow."""
    scale = _limit_scale(width, height, limits)
    if scale == math.inf or (scale >= 1 and not upscale):
        return width, height
    # The epsilon keeps e.g. 161 * (100 / 161) = 99.999... from flooring to 99 instead of maxWidth 100.
    return max(1, math.floor(width * scale + 1e-9)), max(1, math.floor(height * scale + 1e-9))


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


def _check_limits(out_w: int, out_h: int, limits: Limits) -> None:
    """Refuse an output larger than maxWidth, maxHeight or maxArea with a 413."""
    if limits.max_width and out_w > limits.max_width:
        raise IIIFError(413, f"width {out_w} exceeds maxWidth {limits.max_width}", "size")
    if limits.max_height and out_h > limits.max_height:
        raise IIIFError(413, f"height {out_h} exceeds maxHeight {limits.max_height}", "size")
    if limits.max_area and out_w * out_h > limits.max_area:
        raise IIIFError(413, f"area {out_w * out_h} exceeds maxArea {limits.max_area}", "size")


def resolve_size(size: Size, width: int, height: int, limits: Limits) -> tuple[int, int]:
    """The output width and height for a `width` x `height` region, or a 400/413."""
    if size.kind == "max":
        return _fit_max(width, height, limits, size.upscale)
    out_w, out_h = _requested(size, width, height)
    if size.kind == "confined" and _limit_scale(width, height, limits) < math.inf:
        # `!w,h` is confined by the server's limits too: "not larger than w, h, or server-imposed limits".
        fit_w, fit_h = _fit_max(width, height, limits, upscale=True)
        if out_w > fit_w or out_h > fit_h:
            out_w, out_h = fit_w, fit_h
    if out_w <= 0 or out_h <= 0:
        raise bad_request("size", f"the requested size is {out_w}x{out_h}, which has no pixels")
    if not size.upscale and (out_w > width or out_h > height):
        raise bad_request(
            "size", f"{out_w}x{out_h} is larger than the {width}x{height} region; use ^ to upscale"
        )
    _check_limits(out_w, out_h, limits)
    return out_w, out_h


def canonical_size(out_w: int, out_h: int, width: int, height: int) -> str:
    """`max` when the output is the region's own size, else `w,h` (with `^` when upscaled)."""
    if (out_w, out_h) == (width, height):
        return "max"
    prefix = "^" if out_w > width or out_h > height else ""
    return f"{prefix}{out_w},{out_h}"
