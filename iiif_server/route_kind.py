"""What kind of work a request is, from its path alone: the label of metrics, logs, limits and access."""

from urllib.parse import unquote

from starlette.datastructures import QueryParams
from starlette.types import Scope

IIIF_PREFIX = "/iiif/3/"
MASKED_PREFIXES = ("poly:", "pred:")
OCR_SIDECARS = frozenset({"ocr.json", "ocr", "ocr.alto.xml", "ocr.page.xml", "regions.json"})
# Kinds that decode pixels or run models: these count against IIIF_MAX_IN_FLIGHT.
HEAVY = frozenset({"tile", "masked", "sidecar", "batch"})
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/metrics/cache"})
KIND_KEY = "iiif_server.route_kind"  # the scope key of the memoised (path, kind)


def iiif_path_segments(scope: Scope) -> list[str] | None:
    """The percent-decoded segments after `/iiif/3/` (split on the raw path, so `%2F` stays in one)."""
    if not scope.get("path", "").startswith(IIIF_PREFIX):
        return None
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    start = path.find(IIIF_PREFIX)
    return [unquote(part) for part in path[start + len(IIIF_PREFIX) :].split("/")]


def route_kind(scope: Scope) -> str:
    """`tile`, `info`, `masked`, `sidecar`, `batch`, `jobs`, `viewer`, `ops` or `other` (worked out once per
    request: the middlewares each ask)."""
    cached = scope.get(KIND_KEY)
    if cached is not None and cached[0] is scope.get("path"):
        return cached[1]
    kind = _route_kind(scope)
    scope[KIND_KEY] = (scope.get("path"), kind)
    return kind


def _route_kind(scope: Scope) -> str:
    path: str = scope.get("path", "")
    if path in OPS_PATHS:
        return "ops"
    segments = iiif_path_segments(scope)
    if segments is not None:
        if len(segments) == 2 and segments[1] == "info.json":
            return "info"
        if len(segments) == 5:
            return "masked" if segments[1].startswith(MASKED_PREFIXES) else "tile"
        if len(segments) in (2, 3):
            return "sidecar"
        return "other"
    if path == "/mask/batch":
        return "batch"
    if path == "/jobs" or path.startswith("/jobs/"):
        return "jobs"
    if path == "/viewer" or path.startswith(("/viewer/", "/iiif/presentation/")):
        return "viewer"
    return "other"


def access_group(scope: Scope, kind: str) -> str | None:
    """The IIIF_PROTECT group of a request: `batch`, `jobs`, `ocr` (the OCR sidecars, and the `pred:` regions
    of images and of the viewer's panel: they run the detector), or None."""
    if kind in ("batch", "jobs"):
        return kind
    if kind in ("sidecar", "masked"):
        segments = iiif_path_segments(scope) or []  # 2 or 3 segments for a sidecar, 5 for an image
        reads_text = segments[-1] in OCR_SIDECARS if kind == "sidecar" else segments[1].startswith("pred:")
        return "ocr" if reads_text else None
    if kind == "viewer":
        region = QueryParams(scope.get("query_string", b"")).get("region", "")
        return "ocr" if region.strip().startswith("pred:") else None
    return None
