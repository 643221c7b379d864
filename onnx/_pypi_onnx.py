"""PyPI's `onnx` package, loaded in place of this folder when the folder was imported under that name."""

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_pypi_onnx(this_init: str) -> ModuleType:
    """Load PyPI's `onnx` from sys.path without the folder holding `this_init`'s package, as `onnx`."""
    root = Path(this_init).resolve().parent.parent
    elsewhere = [entry for entry in sys.path if Path(entry or ".").resolve() != root]
    spec = importlib.machinery.PathFinder.find_spec("onnx", elsewhere)
    if spec is None or spec.loader is None:
        raise ImportError("PyPI's onnx package is not installed (pip install onnx)")
    module = importlib.util.module_from_spec(spec)
    sys.modules["onnx"] = module
    spec.loader.exec_module(module)
    return module
