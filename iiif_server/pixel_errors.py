"""libvips failures while reading a source: one reason, on one line, naming the file but not its folders."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyvips

from .errors import IIIFError


def libvips_reason(error: pyvips.Error, path: Path) -> str:
    """libvips' message about the file at `path` on one line, at most 300 characters, the folders left out."""
    message = str(error).replace(str(path), path.name)
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())[:300]


@contextmanager
def reading_pixels(path: Path) -> Iterator[None]:
    """Turn a libvips failure inside the block, which reads the file at `path`, into a 501."""
    try:
        yield
    except pyvips.Error as error:
        reason = libvips_reason(error, path)
        raise IIIFError(501, f"libvips could not process this image: {reason}") from error
