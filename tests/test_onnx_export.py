"""models/onnx_export.py: a small model exported with symbolic axes, checked against PyTorch, then served."""

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from models.onnx_export import ExportError, export_onnx, verify_onnx, write_manifest
from ocr_onnx.manifest import (
    CropRecipe,
    DbPostprocess,
    ManifestError,
    ModelManifest,
    Normalisation,
    load_manifest,
)
from ocr_onnx.sessions import ModelRegistry, OnnxSettings

CHARSET = "abc"
HALF = Normalisation("RGB", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))


class ColumnReader(torch.nn.Module):
    """(N, 3, H, W) → (N, W / 4, blank + 3 characters + space) softmax, like a CTC recogniser."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = torch.nn.Conv2d(3, 8, kernel_size=4, stride=4)
        self.classes = torch.nn.Linear(8, len(CHARSET) + 2)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        columns = self.features(pixels).mean(dim=2).permute(0, 2, 1)
        return self.classes(columns).softmax(dim=-1)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    torch.set_num_threads(1)
    model = ColumnReader().eval()
    path = tmp_path_factory.mktemp("export") / "model.onnx"
    export_onnx(
        model,
        torch.randn(2, 3, 16, 32),
        path,
        dynamic_axes={0: "batch", 3: "width"},
        metadata={"character": "\n".join(CHARSET)},
    )
    return model, path


def test_output_axes_follow_the_input_and_metadata_is_kept(exported: tuple[torch.nn.Module, Path]) -> None:
    _, path = exported
    graph = onnx.load(str(path))
    dims = [dim.dim_param or dim.dim_value for dim in graph.graph.output[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "output_1", len(CHARSET) + 2]
    assert {prop.key: prop.value for prop in graph.metadata_props}["character"] == "a\nb\nc"


def test_runtime_matches_pytorch_on_other_shapes(exported: tuple[torch.nn.Module, Path]) -> None:
    model, path = exported
    inputs = [torch.randn(1, 3, 16, 8), torch.randn(5, 3, 16, 120)]
    assert verify_onnx(model, path, inputs) <= 1e-5


def test_a_changed_model_fails_verification(exported: tuple[torch.nn.Module, Path]) -> None:
    model, path = exported
    with torch.no_grad():
        model.classes.weight.mul_(3.0)
    try:
        with pytest.raises(ExportError, match="differ"):
            verify_onnx(model, path, [torch.randn(1, 3, 16, 32)])
    finally:
        with torch.no_grad():
            model.classes.weight.div_(3.0)


def test_recognition_manifest_is_served_by_the_registry(
    exported: tuple[torch.nn.Module, Path], tmp_path: Path
) -> None:
    model, path = exported
    crop = CropRecipe(mask_polygon=True, background=(255, 255, 255), deskew=True, target_height=16)
    manifest = write_manifest(
        tmp_path / "manifests" / "rec.json",
        name="tiny",
        version="1",
        task="recognition",
        model_file=path,
        input_size=16,
        normalisation=HALF,
        charset_key="character",
        crop=crop,
    )
    assert manifest.crop == crop and manifest.path.resolve() == path.resolve()
    recognizer = ModelRegistry(
        OnnxSettings(recognition_manifest=tmp_path / "manifests" / "rec.json")
    ).recognizer()
    assert recognizer.charset == ("", "a", "b", "c", " ")
    line = np.random.default_rng(1).integers(0, 256, (16, 44, 3), dtype=np.uint8)
    with torch.no_grad():
        best = model(torch.from_numpy(HALF.apply(line)[np.newaxis]))[0].argmax(-1).tolist()
    collapsed = [index for step, index in enumerate(best) if index and (step == 0 or best[step - 1] != index)]
    expected = "".join(recognizer.charset[index] for index in collapsed).strip()
    assert len(best) == 11 and recognizer.recognize([line])[0].text == expected


def detection_manifest(target: Path, model_file: Path, **parts: object) -> ModelManifest:
    """A detection manifest of `model_file` with the given DB / class parts."""
    return write_manifest(
        target,
        name="d",
        version="1",
        task="detection",
        model_file=model_file,
        input_size=64,
        normalisation=HALF,
        **parts,
    )  # type: ignore[arg-type]


def test_manifest_checksum_and_required_parts(exported: tuple[torch.nn.Module, Path], tmp_path: Path) -> None:
    _, path = exported
    with pytest.raises(ManifestError, match="DB"):
        detection_manifest(tmp_path / "det.json", path)
    db = DbPostprocess(0.3, 1.5)
    manifest = detection_manifest(tmp_path / "det.json", path, classes=("line",), db=db)
    assert load_manifest(tmp_path / "det.json").db == db
    assert manifest.verify().resolve() == path.resolve()
    copy = tmp_path / "model.onnx"
    copy.write_bytes(path.read_bytes())
    copied = detection_manifest(tmp_path / "det2.json", copy, classes=("line",), db=db)
    copy.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ManifestError, match="sha256"):
        copied.verify()
