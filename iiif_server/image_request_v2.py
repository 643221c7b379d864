"""The URL syntax of IIIF Image API 2.1 where it differs from 3.0: the size parameter and its canonical form.

Region, rotation, quality and format read as in 3.0. A 2.1 size has no `^`: a size larger than the region
is allowed as it is (the `sizeAboveFull` feature), and `full` is the 3.0 `max`."""

from dataclasses import replace

from .errors import bad_request
from .numbers import round_half_up
from .size import Size, parse_size


def parse_size_v2(text: str) -> Size:
    """Parse a 2.1 size segment (`full`, `max`, `w,`, `,h`, `pct:n`, `w,h`, `!w,h`) or raise a 400."""
    if text.startswith("^"):
        raise bad_request("size", f"{text!r}: Image API 2.1 has no ^ syntax; sizes above full need none")
    if text == "full":
        return Size("max")
    size = parse_size(text)
    return size if size.kind == "max" else replace(size, upscale=True)


def canonical_size_v2(out_w: int, out_h: int, width: int, height: int) -> str:
    """`full` when the output is the region's own size, `w,` when it keeps the region's aspect ratio (as
    `w,` would compute it), else `w,h`."""
    if (out_w, out_h) == (width, height):
        return "full"
    if round_half_up(out_w * height / width) == out_h:
        return f"{out_w},"
    return f"{out_w},{out_h}"
