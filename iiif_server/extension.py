"""What an extension plugs into the core: region syntaxes, info.json services, routes and sidecars."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from .body_limit import SizeLimit
from .region import Region

# Parses the text after a region prefix; gets the request's identifier too (for per-image regions).
IdentifiedRegionParser = Callable[[str, str], Region]
# Answers `/iiif/3/{identifier}[/{region}]/{name}`; gets those leading segments, percent-decoded.
SidecarHandler = Callable[[Request, list[str]], Awaitable[Response]]


@dataclass(frozen=True)
class Extension:
    """A plain-Python plug-in; the core is a plain IIIF server when none is loaded."""

    name: str
    region_syntaxes: Mapping[str, IdentifiedRegionParser] = field(default_factory=dict)
    info_services: Callable[[str], list[dict[str, Any]]] | None = None
    routes: Sequence[BaseRoute] = ()
    sidecars: Mapping[str, SidecarHandler] = field(default_factory=dict)
    # Called once with the app's image source and its Caches when the app is built (for extensions that read
    # images or cache results).
    attach: Callable[[Any, Any], None] | None = None
    # For `/readyz`: what the extension needs, each `loaded`/`ok`...; raises when the extension cannot work.
    readiness: Callable[[], dict[str, str]] | None = None
    # The limit of an uploaded image (`body_limit.is_upload`) by the path of the route that takes it.
    upload_limits: Mapping[str, SizeLimit] = field(default_factory=dict)
    # Entered when the app starts serving and left when it stops (for background work, e.g. job recovery).
    lifespan: Callable[[], AbstractContextManager[None]] | None = None
