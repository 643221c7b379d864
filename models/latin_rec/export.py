"""The fine-tuned recogniser as ONNX (softmax output, charset in its metadata) with its manifest."""

from collections.abc import Sequence
from pathlib import Path

import onnx
import torch

from models.dataset.records import CropSettings
from models.onnx_export import verify_onnx, write_manifest
from models.stage2.charset import CHARSET_KEY, Charset
from models.stage2.line_batches import LineSample, batch_tensor, width_batches
from ocr_onnx.allowed_charset import NAMED_SETS
from ocr_onnx.manifest import CropRecipe, ModelManifest, Normalisation, file_sha256

from .ppocr_graph import HEIGHT, trained_onnx
from .recognizer import LatinRecognizer

NORMALISATION = Normalisation("BGR", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))  # PP-OCRv4's, kept
ALLOWED_SETS = ("latin", "digits", "ascii_punctuation", "space")


def allowed_charset(charset: Charset) -> dict[str, object]:
    """The manifest's `allowed_charset`: the named sets and the charset's other characters, so decoding may
    write every class of the model and nothing else."""
    named = set().union(*(NAMED_SETS[name] for name in ALLOWED_SETS))
    return {
        "sets": list(ALLOWED_SETS),
        "characters": "".join(c for c in charset.characters if c not in named),
    }


def export(
    source: Path,
    model: LatinRecognizer,
    charset: Charset,
    samples: Sequence[LineSample],
    crop: CropSettings,
    folder: Path,
    *,
    name: str,
    version: str,
    model_file: str = "model.onnx",
    manifest_file: str = "manifest.json",
) -> tuple[ModelManifest, float]:
    """`model_file` (the `source` PP-OCRv4 graph with the model's weights) and `manifest_file` in `folder`;
    the largest difference of ONNX Runtime from PyTorch on the narrowest, a middle and the widest batch of
    `samples`."""
    batches = width_batches([sample.pixels.shape[1] for sample in samples], 4)
    picks = sorted({0, len(batches) // 2, len(batches) - 1})
    inputs = [batch_tensor([samples[i].pixels for i in batches[pick]], NORMALISATION) for pick in picks]
    model = model.eval()
    path = folder / model_file
    onnx.save(trained_onnx(source, model.ppocr, model.head, {CHARSET_KEY: charset.metadata()}), str(path))
    difference = verify_onnx(model, path, inputs, tolerance=1e-3)
    manifest = write_manifest(
        folder / manifest_file,
        name=name,
        version=f"{version}+{file_sha256(path)[:12]}",
        task="recognition",
        model_file=path,
        input_size=HEIGHT,
        normalisation=NORMALISATION,
        charset_key=CHARSET_KEY,
        crop=CropRecipe(crop.mask_polygon, crop.background, crop.deskew, HEIGHT),
        allowed_charset=allowed_charset(charset),
    )
    return manifest, difference


def save_checkpoint(model: LatinRecognizer, path: Path) -> None:
    """The trained weights (rebuilt on load from the PP-OCRv4 file and the charset)."""
    torch.save(model.state_dict(), path)
