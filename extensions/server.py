"""The full server: the IIIF core with the extensions its settings name (every one by default)."""

from collections.abc import Callable
from dataclasses import replace

from starlette.applications import Starlette

from iiif_server.app import create_app
from iiif_server.extension import Extension
from ocr_onnx import default_registry

from .jobs import jobs_extension
from .masking import masking_extension
from .ocr import ocr_extension
from .openapi import openapi_extension
from .server_settings import ServerSettings
from .viewer import viewer_extension


def _jobs(settings: ServerSettings) -> Extension:
    """`/jobs`, told how many server processes there are (in memory, jobs work in one only)."""
    jobs = replace(settings.jobs, server_processes=settings.core.workers)
    return jobs_extension(jobs, default_registry(settings.onnx), settings.ocr)


AVAILABLE: dict[str, Callable[[ServerSettings], Extension]] = {
    "masking": lambda settings: masking_extension(settings.masks),
    "ocr": lambda settings: ocr_extension(settings.ocr, default_registry(settings.onnx)),
    "viewer": lambda settings: viewer_extension(),
    "jobs": _jobs,
    "openapi": lambda settings: openapi_extension(),
}


def enabled_extensions(settings: ServerSettings) -> list[Extension]:
    """The extensions the settings name (`IIIF_EXTENSIONS`), built on their settings; ValueError for a name
    no extension has."""
    names = tuple(AVAILABLE) if settings.extensions is None else settings.extensions
    unknown = [name for name in names if name not in AVAILABLE]
    if unknown:
        raise ValueError(f"IIIF_EXTENSIONS: unknown {unknown}; there are {list(AVAILABLE)}")
    return [AVAILABLE[name](settings) for name in names]


def create_server_app(settings: ServerSettings) -> Starlette:
    """The application `iiif-server serve` runs."""
    return create_app(settings.core, enabled_extensions(settings))
