"""IIIF Presentation 3 manifests: one canvas per served image, painted by this server's image service."""

from typing import Any
from urllib.parse import quote

from iiif_server.app import PREFIX

from .annotations.iiif import PRESENTATION_3
from .ocr_sidecars import canvas_id

PRESENTATION_PREFIX = "/iiif/presentation/"


def manifest_id(base_url: str, identifier: str) -> str:
    """The URL of an image's manifest."""
    return f"{base_url}{PRESENTATION_PREFIX}{quote(identifier, safe='')}/manifest.json"


def manifest(base_url: str, identifier: str, width: int, height: int, with_ocr: bool) -> dict[str, Any]:
    """The manifest of one image: a `width` x `height` canvas whose painting annotation is the image
    (ImageService3 at this server) and, `with_ocr`, whose `annotations` list the image's `ocr.json` page."""
    service = f"{base_url}{PREFIX}{quote(identifier, safe='')}"
    presentation = f"{base_url}{PRESENTATION_PREFIX}{quote(identifier, safe='')}"
    canvas = canvas_id(base_url, identifier)
    label = {"none": [identifier]}
    body = {
        "id": f"{service}/full/max/0/default.jpg",
        "type": "Image",
        "format": "image/jpeg",
        "width": width,
        "height": height,
        "service": [{"id": service, "type": "ImageService3", "profile": "level2"}],
    }
    painting = {
        "id": f"{presentation}/annotation/1",
        "type": "Annotation",
        "motivation": "painting",
        "body": body,
        "target": canvas,
    }
    canvas_json: dict[str, Any] = {
        "id": canvas,
        "type": "Canvas",
        "label": label,
        "width": width,
        "height": height,
        "items": [{"id": f"{presentation}/page/1", "type": "AnnotationPage", "items": [painting]}],
    }
    if with_ocr:
        canvas_json["annotations"] = [{"id": f"{service}/ocr.json", "type": "AnnotationPage"}]
    return {
        "@context": PRESENTATION_3,
        "id": manifest_id(base_url, identifier),
        "type": "Manifest",
        "label": label,
        "items": [canvas_json],
    }
