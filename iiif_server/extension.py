"""What an extension plugs into the core: region syntaxes, info.json services, routes and sidecars, each with
what its requests are (`RouteLabel`: kind, IIIF_PROTECT group, heavy or not)."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .body_limit import SizeLimit
from .region import ParsedRegion
from .route_label import LabelledRoute, RouteLabel

if TYPE_CHECKING:
    from .services import Services

# Parses the text after a region prefix; gets the request's identifier too (for per-image regions).
IdentifiedRegionParser = Callable[[str, str], ParsedRegion]
# Answers `/iiif/3/{identifier}[/{region}]/{name}`; gets those leading segments, percent-decoded.
SidecarHandler = Callable[[Request, list[str]], Awaitable[Response]]


@dataclass(frozen=True)
class RegionSyntax:
    """A region syntax (after its prefix, e.g. `poly:`) and what the image requests written in it are."""

    parse: IdentifiedRegionParser
    label: RouteLabel


@dataclass(frozen=True)
class Sidecar:
    """A document under `/iiif/3/{identifier}[/{region}]/{name}`: its handler and what its requests are."""

    handler: SidecarHandler
    label: RouteLabel


@dataclass(frozen=True)
class Extension:
    """A plain-Python plug-in; the core is a plain IIIF server when none is loaded."""

    name: str
    region_syntaxes: Mapping[str, RegionSyntax] = field(default_factory=dict)  # by prefix
    info_services: Callable[[str], list[dict[str, Any]]] | None = None
    routes: Sequence[LabelledRoute] = ()
    sidecars: Mapping[str, Sidecar] = field(default_factory=dict)  # by name
    # Called once with the app's Services when the app is built: what an extension's handlers use (image
    # sources, caches, access checks, base URL, the objects extensions share); never the app's state.
    attach: "Callable[[Services], None] | None" = None
    # For `/readyz`: what the extension needs, each `loaded`/`ok`...; raises when the extension cannot work.
    readiness: Callable[[], dict[str, str]] | None = None
    # The limit of an uploaded image (`body_limit.is_upload`) by the path of the route that takes it.
    upload_limits: Mapping[str, SizeLimit] = field(default_factory=dict)
    # The front page's links for an image, as (label, URL) pairs, given the base URL and the identifier.
    image_links: Callable[[str, str], list[tuple[str, str]]] | None = None
    # Entered when the app starts serving and left when it stops (for background work, e.g. job recovery).
    lifespan: Callable[[], AbstractContextManager[None]] | None = None
