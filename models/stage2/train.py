"""`iiif-train train stage2`: the CRNN trained on a dataset folder, exported to ONNX, checked against
PyTorch on real batches, and described by a recognition manifest the server loads."""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import jiwer
import torch

from models.config import load_config
from models.dataset.records import CropSettings, DatasetInfo, LineRecord, load_crop, read_dataset
from models.onnx_export import export_onnx, verify_onnx, write_manifest
from ocr_onnx.manifest import CropRecipe, ModelManifest, Normalisation, file_sha256
from ocr_onnx.sessions import ModelRegistry, OnnxSettings

from .charset import CHARSET_KEY, Charset, normalise_text
from .crnn import Crnn, CrnnShape
from .data_source import DataSource, prepare_dataset
from .fit import Training, fit
from .line_batches import LineSample, batch_tensor, load_samples, width_batches
from .torch_threads import torch_threads

NORMALISATION = Normalisation("RGB", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
VERIFY_BATCHES = 3  # the export is checked on the narrowest, a middle and the widest held-out batch
CHECKPOINT, MODEL, MANIFEST, METRICS = "checkpoint.pt", "model.onnx", "manifest.json", "metrics.json"


@dataclass(frozen=True)
class Stage2Config:
    """A YAML config of `iiif-train train stage2` (see models/configs/stage2_*.yaml)."""

    name: str
    version: str
    data: DataSource
    model: CrnnShape = field(default_factory=CrnnShape)
    training: Training = field(default_factory=Training)


def run(config: Path, out: Path, device: str | None = None) -> Path:
    """Train as `config` says; write checkpoint.pt, model.onnx, manifest.json and metrics.json to `out`;
    print and return the manifest's path."""
    settings = load_config(config, Stage2Config)
    with torch_threads(settings.training.threads):
        return train(settings, out, torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu")))


def train(settings: Stage2Config, out: Path, target: torch.device) -> Path:
    """The run itself, on the `target` device."""
    out.mkdir(parents=True, exist_ok=True)
    folder = prepare_dataset(settings.data, out)
    info, records = read_dataset(folder)
    splits = {
        split: load_samples(folder, info, [r for r in records if r.split == split], settings.model.height)
        for split in ("train", "val", "test")
    }
    if not splits["train"] or not splits["val"]:
        raise ValueError(f"dataset {folder} needs train and val lines; it has {dict(info.counts)}")
    charset = Charset.from_texts(sample.text for sample in splits["train"])
    model, history = fit(
        settings.model, settings.training, NORMALISATION, charset, splits["train"], splits["val"], target
    )
    model = model.cpu()
    checkpoint = {
        "state_dict": model.state_dict(),
        "shape": asdict(settings.model),
        "characters": charset.characters,
    }
    torch.save(checkpoint, out / CHECKPOINT)
    _, difference = export(settings, model, charset, splits["test"] or splits["val"], info.crop, out)
    metrics = {
        "best_val_cer": min(epoch.val_cer for epoch in history),
        "onnx_max_difference": difference,
        **served_scores(out / MANIFEST, folder, info, records),
        "epochs": [asdict(epoch) for epoch in history],
    }
    (out / METRICS).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(out / MANIFEST)
    print(f"IIIF_ONNX_REC_MANIFEST={out / MANIFEST}")
    return out / MANIFEST


def load_checkpoint(path: Path) -> tuple[Crnn, Charset]:
    """The trained model (eval mode, CPU) and its charset from checkpoint.pt."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    shape = CrnnShape(**{**saved["shape"], "channels": tuple(saved["shape"]["channels"])})
    charset = Charset(tuple(saved["characters"]))
    model = Crnn(shape, len(charset))
    model.load_state_dict(saved["state_dict"])
    return model.eval(), charset


def export(
    settings: Stage2Config,
    model: Crnn,
    charset: Charset,
    held_out: Sequence[LineSample],
    crop: CropSettings,
    out: Path,
) -> tuple[ModelManifest, float]:
    """model.onnx with the charset in its metadata, and manifest.json with the dataset's crop recipe; the
    largest difference of ONNX Runtime from PyTorch on real batches of different widths."""
    batches = width_batches([sample.pixels.shape[1] for sample in held_out], settings.training.batch_size)
    picks = sorted({round(k * (len(batches) - 1) / (VERIFY_BATCHES - 1)) for k in range(VERIFY_BATCHES)})
    inputs = [batch_tensor([held_out[i].pixels for i in batches[pick]], NORMALISATION) for pick in picks]
    onnx_path = export_onnx(
        model,
        inputs[0],
        out / MODEL,
        dynamic_axes={0: "batch", 3: "width"},
        metadata={CHARSET_KEY: charset.metadata()},
    )
    difference = verify_onnx(model, onnx_path, inputs)
    manifest = write_manifest(
        out / MANIFEST,
        name=settings.name,
        version=f"{settings.version}+{file_sha256(onnx_path)[:12]}",
        task="recognition",
        model_file=onnx_path,
        input_size=settings.model.height,
        normalisation=NORMALISATION,
        charset_key=CHARSET_KEY,
        crop=CropRecipe(crop.mask_polygon, crop.background, crop.deskew, settings.model.height),
    )
    return manifest, difference


def served_scores(
    manifest: Path, folder: Path, info: DatasetInfo, records: Sequence[LineRecord]
) -> dict[str, float]:
    """CER and WER of the exported model run as the server runs it, on the test lines' crops."""
    test = [record for record in records if record.split == "test"]
    if not test:
        return {}
    recognizer = ModelRegistry(OnnxSettings(recognition_manifest=manifest)).recognizer()
    results = recognizer.recognize([load_crop(folder, record, info.crop.background) for record in test])
    truth, read = [normalise_text(record.text) for record in test], [result.text for result in results]
    return {
        "test_lines": len(test),
        "test_cer": float(jiwer.cer(truth, read)),
        "test_wer": float(jiwer.wer(truth, read)),
    }
