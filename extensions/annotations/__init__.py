"""Annotation formats (W3C, IIIF, PAGE, ALTO, the project's JSON), each normalised into AnnotatedRegion."""

from .detect import detect_format, load_annotations, parse_annotations
from .model import AnnotatedRegion, AnnotationError, ParsedRegions, SkippedItem

__all__ = [
    "AnnotatedRegion",
    "AnnotationError",
    "ParsedRegions",
    "SkippedItem",
    "detect_format",
    "load_annotations",
    "parse_annotations",
]
