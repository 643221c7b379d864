"""Where the models are and how ONNX Runtime runs them (`IIIF_ONNX_*`); light to import, for the settings."""

from dataclasses import dataclass
from pathlib import Path

from iiif_server.env import Env

MANIFEST_DIR = Path(__file__).resolve().parent / "manifests"


@dataclass(frozen=True)
class OnnxSettings:
    """Model and runtime settings; thread counts of 0 leave the choice to ONNX Runtime."""

    intra_threads: int = 0
    inter_threads: int = 0
    providers: tuple[str, ...] = ()  # empty: CUDA when this onnxruntime has it, else CPU
    # `iiif-train fold` of ppocrv4_det.json and latin_rec.json (PP-OCRv4 fine-tuned: README, "Training"): the
    # same answers in less CPU time
    detection_manifest: Path = MANIFEST_DIR / "ppocrv4_det_folded.json"
    recognition_manifest: Path = MANIFEST_DIR / "latin_rec_folded.json"
    layout_manifest: Path | None = None  # None: blocks from the geometry alone (see README, "Page structure")
    detection_max_side: int = 0  # 0: the manifest's input size
    recognition_batch_size: int = 8

    @classmethod
    def read(cls, env: Env) -> "OnnxSettings":
        """Read the `IIIF_ONNX_*` variables; unset ones keep their defaults."""
        defaults = cls()
        return cls(
            intra_threads=env.integer("IIIF_ONNX_INTRA_THREADS", defaults.intra_threads),
            inter_threads=env.integer("IIIF_ONNX_INTER_THREADS", defaults.inter_threads),
            providers=env.items("IIIF_ONNX_PROVIDERS"),
            detection_manifest=Path(env.text("IIIF_ONNX_DET_MANIFEST") or defaults.detection_manifest),
            recognition_manifest=Path(env.text("IIIF_ONNX_REC_MANIFEST") or defaults.recognition_manifest),
            layout_manifest=_optional_path(env.text("IIIF_ONNX_LAYOUT_MANIFEST"), defaults.layout_manifest),
            detection_max_side=env.integer("IIIF_ONNX_DET_MAX_SIDE", defaults.detection_max_side),
            recognition_batch_size=env.integer("IIIF_ONNX_REC_BATCH_SIZE", defaults.recognition_batch_size),
        )


def _optional_path(text: str, default: Path | None) -> Path | None:
    """A manifest path; `none` (or unset, by default) for no model."""
    if text.strip().lower() == "none":
        return None
    return Path(text) if text else default
