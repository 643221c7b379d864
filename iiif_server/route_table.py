"""The one route table: every route of the app with its `RouteLabel`, asked by the middlewares (access,
back-pressure, request log and metrics) before the router runs, and built from the same route objects the
router dispatches with, so that the two cannot disagree.

The core declares its routes; extensions declare theirs, their sidecars and their region syntaxes, each with a
label (`extension.py`). Paths under `/iiif/3/` are split in one place (`path_segments`) and resolved in one
place (`IIIFPaths`), for the Image API's dispatch and for this table alike.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote

from starlette.datastructures import QueryParams
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from .extension import Extension, Sidecar
from .route_label import INFO, OTHER, TILE, LabelledRoute, RouteLabel

IIIF_PREFIX = "/iiif/3/"
LABEL_KEY = "iiif_server.route_label"  # the scope key of the memoised (path, label)


def path_segments(scope: Scope, prefix: str) -> list[str]:
    """The percent-decoded segments after `prefix` in the request's path, split on the raw path so that an
    escaped slash (`%2F`, as in identifiers) stays inside its segment."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    return [unquote(part) for part in path[path.find(prefix) + len(prefix) :].split("/")]


class IIIFAnswer(Enum):
    """Which of the Image API's answers a path under `/iiif/3/` asks for."""

    REDIRECT = "redirect"  # `{id}`: 303 to its info.json
    INFO = "info"  # `{id}/info.json`
    IMAGE = "image"  # `{id}/{region}/{size}/{rotation}/{quality}.{format}`
    SIDECAR = "sidecar"  # `{id}[/{region}]/{name}`, a name an extension declares
    NONE = "none"  # not a Image API path: 404


@dataclass(frozen=True)
class IIIFPath:
    """A path under `/iiif/3/`: its segments, the answer it asks for and its label (and its sidecar)."""

    segments: list[str]
    answer: IIIFAnswer
    label: RouteLabel
    sidecar: Sidecar | None = None


class IIIFPaths:
    """The paths under `/iiif/3/`, by their number of segments, the region syntax and the sidecar name."""

    def __init__(self, extensions: Iterable[Extension]) -> None:
        extensions = tuple(extensions)
        self.syntaxes = {p: syntax for ext in extensions for p, syntax in ext.region_syntaxes.items()}
        self.sidecars = {name: sidecar for ext in extensions for name, sidecar in ext.sidecars.items()}

    def resolve(self, segments: list[str]) -> IIIFPath:
        """What the path of these segments asks for."""
        count, last = len(segments), segments[-1]
        if count == 1 and segments[0]:
            return IIIFPath(segments, IIIFAnswer.REDIRECT, OTHER)
        if count == 2 and last == "info.json":
            return IIIFPath(segments, IIIFAnswer.INFO, INFO)
        if count == 5:
            return IIIFPath(segments, IIIFAnswer.IMAGE, self.region_label(segments[1], TILE))
        if count in (2, 3) and last in self.sidecars:
            sidecar = self.sidecars[last]
            return IIIFPath(segments, IIIFAnswer.SIDECAR, sidecar.label, sidecar)
        return IIIFPath(segments, IIIFAnswer.NONE, OTHER)

    def region_label(self, region: str, default: RouteLabel) -> RouteLabel:
        """The label of the region syntax `region` is written in; `default` for the specification's own."""
        syntax = next((s for prefix, s in self.syntaxes.items() if region.startswith(prefix)), None)
        return default if syntax is None else syntax.label

    def label(self, scope: Scope, prefix: str = IIIF_PREFIX) -> RouteLabel:
        """The label of a request under `prefix` (`/iiif/3/` or `/iiif/2/`)."""
        return self.resolve(path_segments(scope, prefix)).label


def literal_start(route: BaseRoute) -> str:
    """The part of a route's path before its first parameter ('' for routes without a path)."""
    path = getattr(route, "path", "")
    return path.split("{", 1)[0] if isinstance(path, str) else ""


class RouteTable:
    """The app's routes in the router's order, and the label of any request."""

    def __init__(self, routes: Sequence[LabelledRoute], paths: IIIFPaths) -> None:
        self.entries = tuple(routes)
        self.paths = paths
        # Each route's literal start (its path up to the first parameter): a path that does not start with it
        # cannot match, and is not given to the route's regular expression (six of them per request).
        self.literals = tuple(literal_start(entry.route) for entry in self.entries)

    @property
    def routes(self) -> list[BaseRoute]:
        """The routes, for the router."""
        return [entry.route for entry in self.entries]

    @property
    def groups(self) -> frozenset[str]:
        """Every IIIF_PROTECT group a route, sidecar or region syntax declares."""
        declared = (*self.paths.sidecars.values(), *self.paths.syntaxes.values())
        labels = [entry.label for entry in self.entries if isinstance(entry.label, RouteLabel)]
        return frozenset(label.group for label in (*labels, *(d.label for d in declared)) if label.group)

    def check_groups(self, protect: Iterable[str]) -> None:
        """Raise ValueError when IIIF_PROTECT names a group no loaded extension declares."""
        unknown = sorted(set(protect) - self.groups)
        if unknown:
            raise ValueError(
                f"IIIF_PROTECT: no loaded extension declares the groups {unknown}; "
                f"the groups are {sorted(self.groups) or 'none'} (IIIF_EXTENSIONS picks the extensions)"
            )

    def label(self, scope: Scope) -> RouteLabel:
        """The label of this request, worked out once per request (every middleware asks)."""
        cached = scope.get(LABEL_KEY)
        if cached is not None and cached[0] is scope.get("path"):
            return cached[1]
        label = self._label(scope)
        scope[LABEL_KEY] = (scope.get("path"), label)
        return label

    def _label(self, scope: Scope) -> RouteLabel:
        entry = self._match(scope)
        if entry is None:
            return OTHER
        label = entry.label if isinstance(entry.label, RouteLabel) else entry.label(scope)
        if entry.region_parameter is None:
            return label
        region = QueryParams(scope.get("query_string", b"")).get(entry.region_parameter, "").strip()
        group = self.paths.region_label(region, label).group if region else None
        return RouteLabel(label.kind, group or label.group, label.heavy)

    def _match(self, scope: Scope) -> LabelledRoute | None:
        """The entry the router would run: the first full match, else the first partial one (wrong method)."""
        partial = None
        path, root = scope.get("path", ""), scope.get("root_path", "")
        path = path[len(root) :] if root and path.startswith(root) else path  # as Starlette's routes see it
        for entry, literal in zip(self.entries, self.literals, strict=True):
            if not path.startswith(literal):
                continue
            match, _ = entry.route.matches(scope)
            if match is Match.FULL:
                return entry
            if match is Match.PARTIAL and partial is None:
                partial = entry
        return partial
