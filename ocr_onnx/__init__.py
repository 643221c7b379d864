"""In-process ONNX Runtime OCR: text-line and layout detection (Stage 1) and line recognition (Stage 2).

Serving only (onnxruntime, numpy, OpenCV, shapely); exporting trained models is `models.onnx_export`'s job.
Names are imported on first use, so that reading the settings (`ocr_onnx.onnx_settings`) loads no runtime:
the gunicorn master builds the settings and never runs a model.
"""

from importlib import import_module
from typing import Any

MODULE_OF = {
    "DetectedRegion": "detection",
    "LayoutDetector": "layout",
    "LayoutRegion": "layout",
    "TextDetector": "detection",
    "CropRecipe": "manifest",
    "DbPostprocess": "manifest",
    "ManifestError": "manifest",
    "ModelManifest": "manifest",
    "Normalisation": "manifest",
    "load_manifest": "manifest",
    "OnnxSettings": "onnx_settings",
    "Recognition": "recognition",
    "TextRecognizer": "recognition",
    "ModelRegistry": "sessions",
    "choose_providers": "sessions",
    "create_session": "sessions",
    "default_registry": "sessions",
}
__all__ = sorted(MODULE_OF)


def __getattr__(name: str) -> Any:
    """The public name from its module, imported on first use."""
    if name not in MODULE_OF:
        raise AttributeError(f"module 'ocr_onnx' has no attribute {name!r}")
    return getattr(import_module(f".{MODULE_OF[name]}", __name__), name)
