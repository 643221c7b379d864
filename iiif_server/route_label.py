"""What the requests of a route are, as the middlewares need to know it before the route runs."""

from collections.abc import Callable
from dataclasses import dataclass

from starlette.routing import BaseRoute
from starlette.types import Scope


@dataclass(frozen=True)
class RouteLabel:
    """The kind that labels a request's metrics and log line, the `IIIF_PROTECT` group that may make it
    need a token (None: none), and whether it decodes pixels or runs models (heavy: counted against
    IIIF_MAX_IN_FLIGHT)."""

    kind: str
    group: str | None = None
    heavy: bool = False


# The core's own kinds; extensions declare theirs (`masked`, `sidecar`, `batch`, `jobs`, `viewer`).
TILE = RouteLabel("tile", heavy=True)
INFO = RouteLabel("info")
OPS = RouteLabel("ops")
OTHER = RouteLabel("other")


@dataclass(frozen=True)
class LabelledRoute:
    """A route with what its requests are: a label, or a function of the request giving it. With
    `region_parameter`, the query parameter of that name is a IIIF region, and its syntax's group applies
    too (the viewer's panel shows `?region=pred:…`, which runs the detector)."""

    route: BaseRoute
    label: RouteLabel | Callable[[Scope], RouteLabel]
    region_parameter: str | None = None
