"""Export of trained PyTorch models to ONNX, a check of ONNX Runtime against PyTorch, and the manifest."""

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch

from ocr_onnx.manifest import (
    CropRecipe,
    DbPostprocess,
    ManifestError,
    ModelManifest,
    Normalisation,
    Task,
    file_sha256,
    load_manifest,
)

INPUT, OUTPUT = "input", "output"
OPSET = 17


class ExportError(RuntimeError):
    """An exported model whose ONNX Runtime outputs differ from PyTorch's beyond the tolerance."""


def export_onnx(
    model: torch.nn.Module,
    example: torch.Tensor,
    target: Path,
    *,
    dynamic_axes: Mapping[int, str],
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write `model` (one input, one output) as ONNX to `target`; `dynamic_axes` names the input axes that
    may vary, and the output axes that follow them are found by running the model on a larger input."""
    model.eval()
    output_axes = _following_axes(model, example, dynamic_axes)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (example,),
        str(target),
        input_names=[INPUT],
        output_names=[OUTPUT],
        dynamic_axes={INPUT: dict(dynamic_axes), OUTPUT: output_axes},
        opset_version=OPSET,
        dynamo=False,  # the TorchScript exporter keeps LSTM and symbolic widths in one small graph
    )
    graph = onnx.load(str(target))
    for key, value in (metadata or {}).items():
        graph.metadata_props.add(key=key, value=value)
    onnx.save(graph, str(target))
    return target


def _following_axes(
    model: torch.nn.Module, example: torch.Tensor, dynamic: Mapping[int, str]
) -> dict[int, str]:
    """Output axes whose length changes when every dynamic input axis doubles."""
    larger = example.repeat(*[2 if axis in dynamic else 1 for axis in range(example.dim())])
    with torch.no_grad():
        small, large = model(example).shape, model(larger).shape
    return {
        axis: dynamic.get(axis, f"{OUTPUT}_{axis}")
        for axis in range(len(small))
        if small[axis] != large[axis]
    }


def verify_onnx(
    model: torch.nn.Module, onnx_path: Path, inputs: Sequence[torch.Tensor], tolerance: float = 1e-4
) -> float:
    """The largest absolute difference between PyTorch and ONNX Runtime (CPU) over `inputs`; raises
    `ExportError` when it exceeds `tolerance`."""
    model.eval()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for index, tensor in enumerate(inputs):
        with torch.no_grad():
            expected = model(tensor).numpy()
        (actual,) = session.run(None, {session.get_inputs()[0].name: tensor.numpy()})
        if actual.shape != expected.shape:
            raise ExportError(f"input {index}: ONNX output shape {actual.shape}, PyTorch {expected.shape}")
        worst = max(worst, float(np.abs(actual - expected).max()))
        if worst > tolerance:
            raise ExportError(f"input {index}: ONNX and PyTorch differ by {worst:.3g} (> {tolerance:g})")
    return worst


def write_manifest(
    target: Path,
    *,
    name: str,
    version: str,
    task: Task,
    model_file: Path,
    input_size: int,
    normalisation: Normalisation,
    classes: Sequence[str] = (),
    db: DbPostprocess | None = None,
    charset_key: str | None = None,
    crop: CropRecipe | None = None,
    allowed_charset: Mapping[str, object] | None = None,
) -> ModelManifest:
    """Write the JSON manifest of `model_file` (named relative to the manifest, with its sha256; for a
    recogniser optionally the `allowed_charset` decoding may write) and return it as the server reads it."""
    target = target.resolve()
    raw: dict[str, object] = {
        "name": name,
        "version": version,
        "task": task,
        "file": os.path.relpath(Path(model_file).resolve(), target.parent),
        "sha256": file_sha256(Path(model_file)),
        "input_size": input_size,
        "normalisation": {
            "channel_order": normalisation.channel_order,
            "mean": list(normalisation.mean),
            "std": list(normalisation.std),
        },
    }
    if task == "detection":
        if db is None:
            raise ManifestError("a detection manifest needs its DB post-processing constants")
        raw |= {"classes": list(classes), "db": asdict(db)}
    else:
        if crop is None or charset_key is None:
            raise ManifestError("a recognition manifest needs its charset key and crop recipe")
        recipe = {key: value for key, value in asdict(crop).items() if key != "target_height"}
        raw |= {"charset_key": charset_key, "crop": recipe}
        if allowed_charset is not None:
            raw["allowed_charset"] = dict(allowed_charset)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return load_manifest(target)
