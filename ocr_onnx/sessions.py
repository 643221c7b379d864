"""ONNX Runtime sessions, created once per process, and the registry handing out the OCR models."""

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

import numpy as np
import onnxruntime as ort

from iiif_server.metrics import MODEL_SECONDS

from .detection import TextDetector
from .layout import LayoutDetector
from .manifest import ManifestError, ModelManifest, load_manifest
from .onnx_settings import OnnxSettings
from .recognition import TextRecognizer

T = TypeVar("T")
# TensorRT is used only when asked for: it builds an engine per input shape, and OCR shapes vary.
AUTOMATIC_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


def choose_providers(requested: Sequence[str], available: Sequence[str]) -> list[str]:
    """The requested execution providers (all must be available); by default CUDA when available, then CPU."""
    missing = [name for name in requested if name not in available]
    if missing:
        raise ValueError(f"IIIF_ONNX_PROVIDERS asks for {missing}; this onnxruntime has {list(available)}")
    return list(requested) or [name for name in AUTOMATIC_PROVIDERS if name in available]


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask; all the machine's where there is none)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def session_options(settings: OnnxSettings) -> ort.SessionOptions:
    """Threads per operation: IIIF_ONNX_INTRA_THREADS, or the usable cores. The pool's threads sleep between
    operations instead of spinning: with spinning, Stage 2 on a loaded 2-core machine took 1.6 times as long
    (benchmarks/ocr_speed)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = settings.intra_threads or usable_cores()
    options.inter_op_num_threads = settings.inter_threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def create_session(manifest: ModelManifest, settings: OnnxSettings) -> ort.InferenceSession:
    """A session for the manifest's model file, once its checksum has been verified."""
    options = session_options(settings)
    providers = choose_providers(settings.providers, ort.get_available_providers())
    return ort.InferenceSession(str(manifest.verify()), sess_options=options, providers=providers)


class TimedSession:
    """An InferenceSession whose `run` calls are timed into `iiif_model_inference_seconds`."""

    def __init__(self, session: ort.InferenceSession, model: str) -> None:
        self._session = session
        self._seconds = MODEL_SECONDS.labels(model)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        with self._seconds.time():
            return self._session.run(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class ModelRegistry:
    """The OCR models of one process: each loaded on first use, once, and shared by all threads."""

    def __init__(self, settings: OnnxSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._models: dict[str, object] = {}

    def detector(self) -> TextDetector:
        """The text-line detector (Stage 1)."""
        return self._once("detector", self._load_detector)

    def recognizer(self) -> TextRecognizer:
        """The line recogniser (Stage 2)."""
        return self._once("recognizer", self._load_recognizer)

    def layout(self) -> LayoutDetector | None:
        """The layout model typing Stage 1's blocks, or None when IIIF_ONNX_LAYOUT_MANIFEST is `none`."""
        return self._once("layout", self._load_layout)

    def warm_up(self) -> None:
        """Load the models and run each once, so that the first request pays no start-up cost."""
        self.detector().detect(np.full((64, 64, 3), 255, np.uint8))
        layout = self.layout()
        if layout is not None:
            layout.detect(np.full((64, 64, 3), 255, np.uint8))
        self.recognizer().recognize([np.full((48, 96, 3), 255, np.uint8)])

    def readiness(self) -> dict[str, str]:
        """Each model `loaded`, or `loadable` (manifest valid, file present); raises ManifestError if not."""
        manifests = {
            "detector": self.settings.detection_manifest,
            "recognizer": self.settings.recognition_manifest,
            "layout": self.settings.layout_manifest,
        }
        states = {}
        for key, manifest_path in manifests.items():
            if key in self._models:
                states[key] = "loaded"
                continue
            if manifest_path is None:
                continue
            manifest = load_manifest(manifest_path)
            if not manifest.path.is_file():
                raise ManifestError(f"model {manifest.name!r}: file {manifest.path} not found")
            states[key] = "loadable"
        return states

    def _once(self, key: str, load: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._models:
                self._models[key] = load()
            return self._models[key]  # type: ignore[return-value]

    def _load_detector(self) -> TextDetector:
        manifest = load_manifest(self.settings.detection_manifest)
        max_side = self.settings.detection_max_side or manifest.input_size
        return TextDetector(
            TimedSession(create_session(manifest, self.settings), "detector"), manifest, max_side
        )

    def _load_layout(self) -> LayoutDetector | None:
        if self.settings.layout_manifest is None:
            return None
        manifest = load_manifest(self.settings.layout_manifest)
        return LayoutDetector(TimedSession(create_session(manifest, self.settings), "layout"), manifest)

    def _load_recognizer(self) -> TextRecognizer:
        """A line's run is too small to share among threads: the recogniser reads as many batches at once as
        the detector has threads, each on one (60 lines: 5.1 s, against 5.7 s on one thread and 7.2 s with
        two threads a run; benchmarks/ocr_speed/recognizer.py)."""
        manifest = load_manifest(self.settings.recognition_manifest)
        one_thread = replace(self.settings, intra_threads=1)
        session = TimedSession(create_session(manifest, one_thread), "recognizer")
        workers = self.settings.intra_threads or usable_cores()
        return TextRecognizer(session, manifest, self.settings.recognition_batch_size, workers=workers)


_registries: dict[OnnxSettings, ModelRegistry] = {}
_registries_lock = threading.Lock()


def default_registry(settings: OnnxSettings | None = None) -> ModelRegistry:
    """The process-wide registry for `settings` (the defaults unless given): the extensions of one server,
    given the same settings, share one copy of each model."""
    settings = settings or OnnxSettings()
    with _registries_lock:
        if settings not in _registries:
            _registries[settings] = ModelRegistry(settings)
        return _registries[settings]
