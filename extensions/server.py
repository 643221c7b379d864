"""The full server: the IIIF core with the extensions named in `IIIF_EXTENSIONS` (all by default)."""

import os
from collections.abc import Callable

from starlette.applications import Starlette

from iiif_server.app import create_app
from iiif_server.errors import IIIFError
from iiif_server.extension import Extension
from iiif_server.settings import Settings

from .jobs import jobs_extension
from .masking import masking_extension
from .ocr import ocr_extension
from .openapi import openapi_extension
from .viewer import viewer_extension

AVAILABLE: dict[str, Callable[[], Extension]] = {
    "masking": masking_extension,
    "ocr": ocr_extension,
    "viewer": viewer_extension,
    "jobs": jobs_extension,
    "openapi": openapi_extension,
}


def enabled_extensions(names: str | None = None) -> list[Extension]:
    """The extensions named in a comma-separated list (`none` for a plain IIIF server)."""
    text = os.environ.get("IIIF_EXTENSIONS", ",".join(AVAILABLE)) if names is None else names
    chosen = [n.strip() for n in text.split(",") if n.strip() and n.strip() != "none"]
    unknown = [n for n in chosen if n not in AVAILABLE]
    if unknown:
        raise IIIFError(500, f"unknown extensions in IIIF_EXTENSIONS: {', '.join(unknown)}")
    return [AVAILABLE[name]() for name in chosen]


def create_server_app(settings: Settings | None = None, extensions: str | None = None) -> Starlette:
    """The application `iiif-server serve` runs."""
    return create_app(settings, enabled_extensions(extensions))
