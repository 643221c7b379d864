"""IIIF Presentation 2.1 manifests, for Mirador 2-era clients: the same one canvas as the Presentation 3
manifest (same canvas id), painted by this server's Image API 2.1 service."""

from typing import Any
from urllib.parse import quote

from iiif_server.api_versions import IMAGE_API_2
from iiif_server.info_v2 import CONTEXT_V2, PROFILE_URL_V2
from iiif_server.route_table import IIIF_PREFIX

from .ocr_sidecars import canvas_id
from .presentation import PRESENTATION_PREFIX

PRESENTATION_2 = "http://iiif.io/api/presentation/2/context.json"
MEDIA_TYPE_V2 = f'application/ld+json;profile="{PRESENTATION_2}"'
VERSION_SEGMENT = "2"


def manifest_v2_id(base_url: str, identifier: str) -> str:
    """The URL of an image's Presentation 2.1 manifest."""
    return f"{base_url}{PRESENTATION_PREFIX}{VERSION_SEGMENT}/{quote(identifier, safe='')}/manifest.json"


def manifest_v2(base_url: str, identifier: str, width: int, height: int, with_ocr: bool) -> dict[str, Any]:
    """The 2.1 manifest of one image: a sequence of one `width` x `height` canvas whose image is this server's
    2.1 service (level 2); `with_ocr`, the canvas's `seeAlso` names the image's `ocr.json` (a Presentation 3
    annotation page, which 2.1's `otherContent` cannot hold)."""
    escaped = quote(identifier, safe="")
    service = f"{base_url}{IMAGE_API_2.prefix}{escaped}"
    presentation = f"{base_url}{PRESENTATION_PREFIX}{VERSION_SEGMENT}/{escaped}"
    canvas = canvas_id(base_url, identifier)
    resource = {
        "@id": f"{service}/full/full/0/default.jpg",
        "@type": "dctypes:Image",
        "format": "image/jpeg",
        "width": width,
        "height": height,
        "service": {"@context": CONTEXT_V2, "@id": service, "profile": PROFILE_URL_V2},
    }
    image = {
        "@id": f"{presentation}/annotation/1",
        "@type": "oa:Annotation",
        "motivation": "sc:painting",
        "resource": resource,
        "on": canvas,
    }
    canvas_json: dict[str, Any] = {
        "@id": canvas,
        "@type": "sc:Canvas",
        "label": identifier,
        "width": width,
        "height": height,
        "images": [image],
    }
    if with_ocr:
        ocr = f"{base_url}{IIIF_PREFIX}{escaped}/ocr.json"
        canvas_json["seeAlso"] = {"@id": ocr, "format": "application/ld+json", "label": "OCR"}
    return {
        "@context": PRESENTATION_2,
        "@id": manifest_v2_id(base_url, identifier),
        "@type": "sc:Manifest",
        "label": identifier,
        "sequences": [
            {"@id": f"{presentation}/sequence/normal", "@type": "sc:Sequence", "canvases": [canvas_json]}
        ],
    }
