"""`GET /openapi.json`: an OpenAPI 3.1 document of the server's endpoints: the IIIF Image API in both versions
(3.0 at `/iiif/3`, 2.1 at `/iiif/2`; their full syntax is the IIIF specifications'), batch masks, OCR
sidecars, jobs, the viewer's manifests, metrics and health checks.

Written by hand, as data: the routes are plain Starlette handlers with no typed signatures to generate it
from. Each path names what must be loaded for it to exist (an extension, or a route), and the served
document lists only the paths this server has; `tests/test_openapi.py` validates it and runs schemathesis
against a live server.
"""

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from iiif_server.extension import Extension
from iiif_server.formats import MEDIA_TYPES
from iiif_server.route_label import OTHER, LabelledRoute
from iiif_server.services import Services

from .annotations.iiif import MEDIA_TYPE as JSONLD
from .presentation_v2 import MEDIA_TYPE_V2

ERROR = {
    "description": "refused: a short plain-text reason",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): ERROR for code in codes}


def _path_param(name: str, description: str, example: Any, schema: dict[str, Any] | None = None) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string", "minLength": 1},
        "example": example,
    }


def _query_number(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "number"},
    }


IDENTIFIER = _path_param("identifier", "an image identifier served here (`%2F` for a slash)", "page")
FILTERS = [
    _query_number("min_confidence", "only regions the detector is at least this sure of (0-1)"),
    _query_number("min_area", "only regions of at least this many square pixels"),
]
LINES = {
    "name": "lines",
    "in": "query",
    "required": False,
    "description": (
        "`one`: read the whole region as one line; `detect`: find its lines first and read each; `auto`: "
        "one line when the lines found in it form one row (rows grazed at its top or bottom edge left out), "
        "read across the region's width, else each line. A `pred:` region is always one line."
    ),
    "schema": {"type": "string", "enum": ["one", "auto", "detect"], "default": "auto"},
}
GRANULARITY = {
    "name": "granularity",
    "in": "query",
    "required": False,
    "description": "`line`: the text lines; `block`: the typed blocks (paragraph, title, caption, figure, …)",
    "schema": {"type": "string", "enum": ["line", "block"], "default": "line"},
}
ANNOTATION_PAGE = {
    "type": "object",
    "required": ["@context", "id", "type", "items"],
    "properties": {
        "@context": {"type": "string"},
        "id": {"type": "string"},
        "type": {"const": "AnnotationPage"},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}
XML = {"content": {"application/xml": {"schema": {"type": "string"}}}}


def _sidecar(
    summary: str, media_type: str, schema: dict[str, Any], *parameters: dict[str, Any]
) -> dict[str, Any]:
    return {
        "get": {
            "tags": ["ocr"],
            "summary": summary,
            "parameters": [IDENTIFIER, *FILTERS, *parameters],
            "responses": {
                "200": {"description": summary, "content": {media_type: {"schema": schema}}},
                **_errors(400, 404, 413, 501, 502, 503, 504),
            },
        }
    }


BATCH_ITEM = {
    "type": "object",
    "required": ["polygon"],
    "properties": {
        "id": {"type": "string"},
        "polygon": {
            "oneOf": [
                {"type": "string", "description": "x1,y1,x2,y2,..."},
                {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
            ]
        },
        "scale": {"type": "number"},
    },
}
BATCH_REQUEST = {
    "type": "object",
    "description": "`identifier` or `iiif_base_url`; `annotations` or `document` (PAGE, ALTO, W3C, IIIF)",
    "properties": {
        "identifier": {"type": "string"},
        "iiif_base_url": {"type": "string"},
        "annotations": {"type": "array", "items": BATCH_ITEM},
        "document": {},
        "output_format": {"enum": ["zip", "json"]},
        "format": {"enum": ["png", "jpg", "webp", "tif", "gif"]},
        "quality": {"enum": ["default", "color", "gray", "bitonal"]},
        "scale": {"type": "number"},
        "bg": {"type": "string"},
        "min_confidence": {"type": "number"},
        "min_area": {"type": "number"},
    },
    "example": {
        "identifier": "page",
        "annotations": [{"id": "a", "polygon": [[10, 10], [200, 10], [200, 60], [10, 60]]}],
        "output_format": "json",
        "format": "png",
    },
}
JOB_PAGE = {
    "type": "object",
    "required": ["page", "status"],
    "properties": {
        "page": {"type": "integer", "minimum": 1},
        "label": {"type": "string"},
        "status": {"enum": ["queued", "running", "finished", "failed"]},
        "error": {"type": "string", "description": "why the page failed"},
        "lines": {"type": "integer"},
        "worker": {"type": "string", "description": "host:pid:token of the process that read the page"},
        "attempts": {
            "type": "integer",
            "description": "reads begun; above 1 when a reader was killed and the page was read again",
        },
        "results": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
JOB = {
    "type": "object",
    "required": ["id", "url", "status", "progress", "pages"],
    "properties": {
        "id": {"type": "string"},
        "url": {"type": "string"},
        "status": {"enum": ["queued", "running", "finished", "failed"]},
        "backend": {"enum": ["inprocess", "rq"]},
        "created": {"type": "number"},
        "progress": {
            "type": "object",
            "required": ["done", "total"],
            "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}},
        },
        "pages": {"type": "array", "items": JOB_PAGE},
    },
}
JOB_REQUEST = {
    "type": "object",
    "description": "exactly one of `identifiers` (images served here) and `manifest` (a manifest URL)",
    "properties": {
        "identifiers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "manifest": {"type": "string", "format": "uri"},
    },
    "example": {"identifiers": ["page"]},
}
JOB_ID = _path_param("job_id", "the job's id", "0" * 32)


def _image_api(version: str, info_context: str, full_size: str) -> dict[str, dict[str, Any]]:
    """The info.json and image request paths of one Image API version (`3.0` or `2.1`)."""
    info = {
        "get": {
            "tags": ["image"],
            "summary": f"the Image API {version} information document of an image",
            "parameters": [IDENTIFIER],
            "responses": {
                "200": {
                    "description": "info.json (JSON-LD when asked for by Accept)",
                    "content": {
                        "application/json": {"schema": {"type": "object"}},
                        f'application/ld+json;profile="{info_context}"': {"schema": {"type": "object"}},
                    },
                },
                **_errors(400, 401, 403, 404, 413, 501),
            },
        }
    }
    image = {
        "get": {
            "tags": ["image"],
            "summary": f"an image request of the Image API {version}, `poly:` and `pred:` regions included",
            "parameters": [
                IDENTIFIER,
                _path_param(
                    "region", "full, square, x,y,w,h, pct:x,y,w,h, poly:x1,y1,... or pred:id", "full"
                ),
                _path_param("size", f"{full_size}, w,, ,h, pct:n, w,h or !w,h", full_size),
                _path_param("rotation", "degrees clockwise, `!` to mirror first", "0"),
                _path_param(
                    "quality", "the quality", "default", {"enum": ["default", "color", "gray", "bitonal"]}
                ),
                _path_param("format", "the format", "jpg", {"enum": list(MEDIA_TYPES)}),
            ],
            "responses": {
                "200": {
                    "description": "the image",
                    "content": {media_type: {} for media_type in MEDIA_TYPES.values()},
                },
                "304": {"description": "not modified (If-None-Match, If-Modified-Since)"},
                **_errors(400, 401, 403, 404, 413, 501, 502, 503),
            },
        }
    }
    prefix = f"/iiif/{version[0]}/{{identifier}}"
    return {
        f"{prefix}/info.json": info,
        f"{prefix}/{{region}}/{{size}}/{{rotation}}/{{quality}}.{{format}}": image,
    }


# Each path, and what must be loaded for this server to have it: ("extension", name) or ("route", path).
PATHS: dict[str, tuple[tuple[str, str], dict[str, Any]]] = {
    **{
        path: (("route", "/iiif/3/{rest:path}"), item)
        for path, item in _image_api("3.0", "http://iiif.io/api/image/3/context.json", "max").items()
    },
    **{
        path: (("route", "/iiif/2/{rest:path}"), item)
        for path, item in _image_api("2.1", "http://iiif.io/api/image/2/context.json", "full").items()
    },
    "/mask/batch": (
        ("extension", "masking"),
        {
            "post": {
                "tags": ["masking"],
                "summary": "many polygon masks of one image, as a streamed zip or JSON",
                "requestBody": {"required": True, "content": {"application/json": {"schema": BATCH_REQUEST}}},
                "responses": {
                    "200": {
                        "description": "one entry per annotation, each with its status",
                        "content": {
                            "application/zip": {"schema": {"type": "string", "format": "binary"}},
                            "application/json": {"schema": {"type": "object"}},
                        },
                    },
                    **_errors(400, 403, 404, 413, 501, 502, 503, 504),
                },
            }
        },
    ),
    "/iiif/3/{identifier}/regions.json": (
        ("extension", "ocr"),
        _sidecar(
            "Stage 1: the predicted text lines or typed blocks as a IIIF AnnotationPage",
            JSONLD,
            ANNOTATION_PAGE,
            GRANULARITY,
        ),
    ),
    "/iiif/3/{identifier}/ocr.json": (
        ("extension", "ocr"),
        _sidecar(
            "Stage 2: the text of every text block and line, in reading order, as a IIIF AnnotationPage",
            JSONLD,
            ANNOTATION_PAGE,
        ),
    ),
    "/iiif/3/{identifier}/ocr.alto.xml": (
        ("extension", "ocr"),
        _sidecar("the page's OCR as ALTO XML v4", "application/xml", {"type": "string"}),
    ),
    "/iiif/3/{identifier}/ocr.page.xml": (
        ("extension", "ocr"),
        _sidecar("the page's OCR as PAGE XML 2019", "application/xml", {"type": "string"}),
    ),
    "/iiif/3/{identifier}/{region}/ocr": (
        ("extension", "ocr"),
        {
            "get": {
                "tags": ["ocr"],
                "summary": "the text of one region (x,y,w,h, pct:, poly:, pred:), read from its masked crop",
                "parameters": [
                    IDENTIFIER,
                    _path_param("region", "a IIIF region, `poly:` polygon or `pred:` line id", "0,0,200,60"),
                    LINES,
                ],
                "responses": {
                    "200": {
                        "description": "the text and its confidence",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["text", "confidence", "region"],
                                    "properties": {
                                        "text": {"type": "string"},
                                        "confidence": {"type": "number"},
                                        "region": {"type": "string"},
                                    },
                                }
                            }
                        },
                    },
                    **_errors(400, 404, 413, 501, 502, 503, 504),
                },
            }
        },
    ),
    "/jobs": (
        ("extension", "jobs"),
        {
            "post": {
                "tags": ["jobs"],
                "summary": "start a whole-document OCR job (Stage 1, mask, Stage 2 on every page)",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": JOB_REQUEST},
                        "image/*": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "responses": {
                    "202": {
                        "description": "queued; poll the `Location`",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": JOB}},
                    },
                    **_errors(400, 403, 413, 415, 501, 502, 503, 504),
                },
            }
        },
    ),
    "/jobs/{job_id}": (
        ("extension", "jobs"),
        {
            "get": {
                "tags": ["jobs"],
                "summary": "a job's status, progress, each page's state or error, and links to the results",
                "parameters": [JOB_ID],
                "responses": {
                    "200": {"description": "the job", "content": {"application/json": {"schema": JOB}}},
                    **_errors(404, 501, 503),
                },
            }
        },
    ),
    "/jobs/{job_id}/{page}/{document}": (
        ("extension", "jobs"),
        {
            "get": {
                "tags": ["jobs"],
                "summary": "one result of a finished page",
                "parameters": [
                    JOB_ID,
                    _path_param("page", "page number, from 1", 1, {"type": "integer", "minimum": 1}),
                    _path_param(
                        "document",
                        "which result",
                        "ocr.alto.xml",
                        {"enum": ["ocr.alto.xml", "ocr.page.xml", "ocr.json"]},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "ALTO XML, PAGE XML or a IIIF AnnotationPage",
                        "content": {
                            "application/xml": {"schema": {"type": "string"}},
                            JSONLD: {"schema": ANNOTATION_PAGE},
                        },
                    },
                    **_errors(404, 501, 503),
                },
            }
        },
    ),
    "/iiif/presentation/{identifier}/manifest.json": (
        ("extension", "viewer"),
        {
            "get": {
                "tags": ["viewer"],
                "summary": "a IIIF Presentation 3 manifest with one canvas showing the image",
                "parameters": [IDENTIFIER],
                "responses": {
                    "200": {
                        "description": "the manifest",
                        "content": {JSONLD: {"schema": {"type": "object"}}},
                    },
                    **_errors(400, 404, 413, 501),
                },
            }
        },
    ),
    "/iiif/presentation/2/{identifier}/manifest.json": (
        ("extension", "viewer"),
        {
            "get": {
                "tags": ["viewer"],
                "summary": "a IIIF Presentation 2.1 manifest, its image served by the Image API 2.1",
                "parameters": [IDENTIFIER],
                "responses": {
                    "200": {
                        "description": "the manifest",
                        "content": {MEDIA_TYPE_V2: {"schema": {"type": "object"}}},
                    },
                    **_errors(400, 404, 413, 501),
                },
            }
        },
    ),
    "/metrics/cache": (
        ("route", "/metrics/cache"),
        {
            "get": {
                "tags": ["operations"],
                "summary": "hits, misses and hit rates of the caches; requests and breakers per upstream",
                "responses": {"200": {"description": "the counters", "content": {"application/json": {}}}},
            }
        },
    ),
    "/healthz": (
        ("route", "/healthz"),
        {
            "get": {
                "tags": ["operations"],
                "summary": "200 while the process runs",
                "responses": {"200": {"description": "alive"}},
            }
        },
    ),
    "/readyz": (
        ("route", "/readyz"),
        {
            "get": {
                "tags": ["operations"],
                "summary": "200 with its checks when ready (images, Redis, models), else 503",
                "responses": {"200": {"description": "ready"}, "503": {"description": "a check failed"}},
            }
        },
    ),
    "/metrics": (
        ("route", "/metrics"),
        {
            "get": {
                "tags": ["operations"],
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "the text exposition format"}},
            }
        },
    ),
    "/openapi.json": (
        ("extension", "openapi"),
        {
            "get": {
                "tags": ["operations"],
                "summary": "this document",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
            }
        },
    ),
}


def openapi_document(extensions: set[str], routes: set[str], server_url: str | None = None) -> dict[str, Any]:
    """The document, listing the paths whose extension is loaded or whose route exists."""
    present = {"extension": extensions, "route": routes}
    paths = {path: item for path, ((kind, name), item) in PATHS.items() if name in present[kind]}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "IIIF mask server: extensions",
            "version": "1",
            "description": "The IIIF Image API 3.0 (`/iiif/3/`, https://iiif.io/api/image/3.0/) and 2.1 "
            "(`/iiif/2/`, https://iiif.io/api/image/2.1/) and the endpoints beside them. Refusals are plain "
            "text with the status code.",
        },
        "paths": paths,
    }
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document


class OpenAPIEndpoint:
    """`GET /openapi.json` on the app's services (given when the app is built: `attach`)."""

    services: Services

    def attach(self, services: Services) -> None:
        """Describe the app these services were built for."""
        self.services = services

    async def __call__(self, request: Request) -> Response:
        """The OpenAPI document of this server's loaded extensions."""
        extensions = {extension.name for extension in self.services.extensions}
        routes = {route.path for route in request.app.routes if hasattr(route, "path")}
        return JSONResponse(openapi_document(extensions, routes, self.services.base_url(request)))


def openapi_extension() -> Extension:
    """`GET /openapi.json`."""
    endpoint = OpenAPIEndpoint()
    # A bound method: Starlette would call a plain callable instance as a raw ASGI app.
    route = LabelledRoute(Route("/openapi.json", endpoint.__call__), OTHER)
    return Extension(name="openapi", routes=[route], attach=endpoint.attach)
