"""The project's server as the engine under test: started on the pages' folder, asked for each `ocr.json`.

The server runs as a subprocess at its default settings (`IIIF_OCR_WARM_UP=1`: models loaded before the
first page), so each page's request is its first and is timed with a cold cache. The lines come in the
order of `ocr.json`, which is the server's reading order (its block annotations are left out).
"""

import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from conformance.live_server import running_server
from extensions.annotations import iiif

from .lines import PageReading, read_lines

SERVER_ENV = {"IIIF_OCR_WARM_UP": "1"}
START_TIMEOUT = 180.0  # seconds: loading the models on a busy 2-core machine
PAGE_TIMEOUT = 600.0  # seconds for one page's ocr.json


def read_with_server(
    images: Path, identifiers: Sequence[str], env: Mapping[str, str] | None = None
) -> Iterator[tuple[str, PageReading]]:
    """Start the server on `images` (with the settings `env` adds) and yield each identifier with the lines
    of its `ocr.json`."""
    with running_server(images, {**SERVER_ENV, **(env or {})}, timeout=START_TIMEOUT) as server:
        for identifier in identifiers:
            url = f"{server.base_url}/iiif/3/{quote(identifier, safe='')}/ocr.json"
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=PAGE_TIMEOUT) as response:
                    body = response.read()
            except urllib.error.HTTPError as error:
                raise RuntimeError(
                    f"{identifier}: ocr.json answered {error.code}: {error.read()!r}"
                ) from error
            seconds = time.perf_counter() - started
            yield identifier, PageReading(read_lines(iiif.parse(body)), seconds)
