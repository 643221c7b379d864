"""In-process ONNX Runtime OCR: text-line detection (Stage 1) and line recognition (Stage 2).

Serving only (onnxruntime, numpy, OpenCV, shapely); exporting trained models is `models.onnx_export`'s job.
"""

from .detection import DetectedRegion, TextDetector
from .manifest import (
    CropRecipe,
    DbPostprocess,
    ManifestError,
    ModelManifest,
    Normalisation,
    load_manifest,
)
from .recognition import Recognition, TextRecognizer
from .sessions import ModelRegistry, OnnxSettings, choose_providers, create_session, default_registry

__all__ = [
    "CropRecipe",
    "DbPostprocess",
    "DetectedRegion",
    "ManifestError",
    "ModelManifest",
    "ModelRegistry",
    "Normalisation",
    "OnnxSettings",
    "Recognition",
    "TextDetector",
    "TextRecognizer",
    "choose_providers",
    "create_session",
    "default_registry",
    "load_manifest",
]
