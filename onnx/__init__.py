"""In-process ONNX Runtime OCR: text-line detection (Stage 1) and line recognition (Stage 2).

The package is named `ocr_onnx` (its folder is `onnx/`) so that it does not shadow the `onnx` package; where
the repository root is on sys.path, `import onnx` finds this folder first, and it hands over to PyPI's.
"""

import sys

if __name__ == "onnx":  # imported by that name: the repository root is on sys.path (pytest, `python -m`)
    from ._pypi_onnx import load_pypi_onnx

    sys.modules[__name__] = load_pypi_onnx(__file__)
else:
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
