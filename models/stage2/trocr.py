"""Fine-tuning hook for a TrOCR checkpoint that a user has on disk (`iiif-train train trocr CONFIG`).

The model (`VisionEncoderDecoderModel`) and its processor are read from a local folder only, trained on the
same dataset folders as the CRNN, and written back with `save_pretrained`. There is no ONNX export and the
server does not run such a model in process: only the CTC recogniser of `ocr_onnx` is wired into serving.
"""

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import torch

from models.config import load_config
from models.dataset.records import load_crop, read_dataset

from .charset import normalise_text
from .data_source import DataSource, prepare_dataset
from .torch_threads import torch_threads

IGNORED = -100  # label positions the loss skips (padding)


@dataclass(frozen=True)
class TrocrConfig:
    """`checkpoint`: a folder holding the model and its processor (as `save_pretrained` writes them).
    `max_steps` 0 trains every epoch in full; `eval_lines` caps the validation lines read after training."""

    checkpoint: Path
    data: DataSource
    epochs: int = 1
    max_steps: int = 0
    batch_size: int = 8
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    max_target_length: int = 128
    eval_lines: int = 200
    seed: int = 0
    threads: int = 0


@dataclass(frozen=True)
class Line:
    """A crop (H, W, 3) uint8 RGB and its text."""

    pixels: np.ndarray
    text: str


def run(config: Path, out: Path, device: str | None = None) -> Path:
    """Fine-tune the checkpoint named in `config` and save it, its processor and metrics.json to `out`;
    returns `out`."""
    settings = load_config(config, TrocrConfig)
    with torch_threads(settings.threads):
        return fine_tune_checkpoint(
            settings, out, torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        )


def fine_tune_checkpoint(settings: TrocrConfig, out: Path, target: torch.device) -> Path:
    """The run itself, on the `target` device."""
    from transformers import TrOCRProcessor, VisionEncoderDecoderModel

    torch.manual_seed(settings.seed)
    out.mkdir(parents=True, exist_ok=True)
    processor = TrOCRProcessor.from_pretrained(settings.checkpoint, local_files_only=True)
    model = VisionEncoderDecoderModel.from_pretrained(settings.checkpoint, local_files_only=True).to(target)
    fill_token_ids(model, processor.tokenizer)
    splits = load_lines(prepare_dataset(settings.data, out))
    if not splits["train"]:
        raise ValueError("the dataset has no training lines")
    losses = fine_tune(settings, model, processor, splits["train"], target)
    held_out = (splits["val"] or splits["test"])[: settings.eval_lines]
    metrics: dict[str, Any] = {"losses": losses}
    if held_out:
        metrics["val_cer"] = held_out_cer(settings, model, processor, held_out, target)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print(f"fine-tuned TrOCR model in {out}")
    return out


def fill_token_ids(model: Any, tokenizer: Any) -> None:
    """Give the model the decoder start and padding ids from its tokenizer when its config lacks them."""
    if model.config.decoder_start_token_id is None:
        start = tokenizer.cls_token_id  # what the TrOCR recipe starts with; a tokenizer without one has <s>
        model.config.decoder_start_token_id = tokenizer.bos_token_id if start is None else start
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id


def load_lines(folder: Path) -> dict[str, list[Line]]:
    """The dataset's crops (flattened onto its background) and texts by split."""
    info, records = read_dataset(folder)
    splits: dict[str, list[Line]] = {"train": [], "val": [], "test": []}
    for record in records:
        line = Line(load_crop(folder, record, info.crop.background), normalise_text(record.text))
        splits.setdefault(record.split, []).append(line)
    return splits


def encode_batch(
    processor: Any, lines: Sequence[Line], max_length: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel values and labels (padding as IGNORED) of a batch of lines."""
    pixels = processor(images=[line.pixels for line in lines], return_tensors="pt").pixel_values
    tokens = processor.tokenizer(
        [line.text for line in lines],
        padding=True,
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    labels = tokens.input_ids.masked_fill(tokens.attention_mask == 0, IGNORED)
    return pixels.to(device), labels.to(device)


def fine_tune(
    settings: TrocrConfig, model: Any, processor: Any, lines: Sequence[Line], device: torch.device
) -> list[float]:
    """AdamW over shuffled batches for `epochs` (at most `max_steps`); each step's loss."""
    rng = random.Random(settings.seed)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay
    )
    model.train()
    losses: list[float] = []
    for epoch in range(1, settings.epochs + 1):
        order = list(range(len(lines)))
        rng.shuffle(order)
        for start in range(0, len(order), settings.batch_size):
            batch = [lines[index] for index in order[start : start + settings.batch_size]]
            pixels, labels = encode_batch(processor, batch, settings.max_target_length, device)
            loss = model(pixel_values=pixels, labels=labels).loss
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            losses.append(float(loss.item()))
            print(f"epoch {epoch}, step {len(losses)}: loss {losses[-1]:.4f}", flush=True)
            if len(losses) == settings.max_steps:
                return losses
    return losses


def held_out_cer(
    settings: TrocrConfig, model: Any, processor: Any, lines: Sequence[Line], device: torch.device
) -> float:
    """CER of greedy generation over `lines`."""
    model.eval()
    texts: list[str] = []
    with torch.no_grad():
        for start in range(0, len(lines), settings.batch_size):
            batch = lines[start : start + settings.batch_size]
            pixels = processor(images=[line.pixels for line in batch], return_tensors="pt").pixel_values
            generated = model.generate(pixels.to(device), max_new_tokens=settings.max_target_length)
            texts += [
                normalise_text(text) for text in processor.batch_decode(generated, skip_special_tokens=True)
            ]
    return float(jiwer.cer([line.text for line in lines], texts))
