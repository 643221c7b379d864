"""IIIF Presentation 3 Annotation and AnnotationPage, and Presentation 2 `sc:AnnotationList`, read as W3C."""

from .documents import DOCUMENT, load_json
from .json_fields import as_object, kind_of, listed
from .model import AnnotatedRegion, AnnotationError, ImageSize
from .w3c import annotation_region, annotations


def parse(data: bytes, image_size: ImageSize | None = None) -> list[AnnotatedRegion]:
    """Regions of a Presentation 3 Annotation or AnnotationPage, or of a Presentation 2 AnnotationList."""
    document = as_object(load_json(data), DOCUMENT, "document")
    kind = kind_of(document)
    if kind == "AnnotationList":
        found = listed(document.get("resources", []), "resources")
    elif kind in ("Annotation", "AnnotationPage"):
        found = annotations(document)
    else:
        raise AnnotationError(
            DOCUMENT, f"expected an AnnotationPage, Annotation or AnnotationList, not {kind!r}"
        )
    return [annotation_region(annotation, label, image_size) for label, annotation in found]
