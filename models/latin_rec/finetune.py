"""The fine-tuning loop. PP-OCRv4's convolutional stages stay frozen: each line goes through them once, and
the rest (the SVTR neck) and the new classifier are trained on those features with CTC, in width-bucketed
batches, for a fixed number of minutes (warm-up, then cosine decay to the end of the time box). On a shared
2-core CPU a step is some twenty times faster than one through the whole network, and no held-out lines are
looked at (no early stopping)."""

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.stage2.charset import BLANK, Charset
from models.stage2.fit import MAX_GRADIENT_NORM, learning_rate_factor
from models.stage2.line_batches import LineSample, batch_tensor, width_batches
from ocr_onnx.manifest import Normalisation

from .ppocr_graph import pool_session, split_at_pool
from .recognizer import LatinRecognizer


@dataclass(frozen=True)
class FineTuning:
    """Minutes of training (after the features, which are made once), batch size, peak learning rates
    (the new classifier's higher), weight decay and seed."""

    minutes: float = 12.0
    batch_size: int = 8
    learning_rate: float = 5e-4
    head_learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0


def finetune(
    model: LatinRecognizer,
    plan: FineTuning,
    charset: Charset,
    lines: Sequence[LineSample],
    features: Sequence[torch.Tensor],
    padding: torch.Tensor,
) -> list[dict[str, float]]:
    """Train `model`'s neck and classifier in place on the lines' `pooled_features` until the time box is
    used up; each epoch's mean loss."""
    started, seconds = time.monotonic(), plan.minutes * 60
    rng = random.Random(plan.seed)
    torch.manual_seed(plan.seed)
    stem, neck = split_at_pool(model.backbone)
    trained = [p for p in neck.parameters() if p.requires_grad]
    head = list(model.head.parameters())
    for parameter in stem.parameters():
        parameter.requires_grad_(False)
    groups = [{"params": trained, "lr": plan.learning_rate}, {"params": head, "lr": plan.head_learning_rate}]
    peaks = [plan.learning_rate, plan.head_learning_rate]
    optimiser = torch.optim.AdamW(groups, weight_decay=plan.weight_decay)
    ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    targets = [torch.tensor(charset.encode(line.text), dtype=torch.long) for line in lines]
    widths = [feature.shape[1] for feature in features]
    log: list[dict[str, float]] = []
    model.train()
    while (progress := (time.monotonic() - started) / seconds) < 1.0:
        losses = []
        for batch in width_batches(widths, plan.batch_size, rng):
            for group, peak in zip(optimiser.param_groups, peaks, strict=True):
                group["lr"] = peak * learning_rate_factor(progress)
            pooled = padded([features[i] for i in batch], padding)
            log_probs = model.head(neck(pooled)).log_softmax(-1).permute(1, 0, 2)
            loss = ctc(
                log_probs,
                torch.cat([targets[i] for i in batch]),
                torch.full((len(batch),), log_probs.shape[0], dtype=torch.long),
                torch.tensor([len(targets[i]) for i in batch], dtype=torch.long),
            )
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trained + head, MAX_GRADIENT_NORM)
            optimiser.step()
            losses.append(float(loss.item()))
            if (progress := (time.monotonic() - started) / seconds) >= 1.0:
                break
        minutes, loss = (time.monotonic() - started) / 60, float(np.mean(losses))
        log.append({"epoch": len(log) + 1, "minutes": round(minutes, 2), "loss": round(loss, 4)})
        print(f"epoch {len(log)}, {minutes:.1f} min: loss {loss:.3f}", flush=True)
    for parameter in stem.parameters():
        parameter.requires_grad_(True)
    return log


def pooled_features(
    source: Path,
    model: LatinRecognizer,
    lines: Sequence[LineSample],
    normalisation: Normalisation,
    batch_size: int,
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each line's (C, T) features from the frozen stages (run by ONNX Runtime on the `source` PP-OCRv4
    file), read in batches of similar width as the server reads them (each cut to its own width), and the
    feature column of padding (a zero input)."""
    stem = pool_session(source, model.backbone)
    name = stem.get_inputs()[0].name
    features: list[torch.Tensor] = [torch.empty(0)] * len(lines)
    for batch in width_batches([line.pixels.shape[1] for line in lines], batch_size):
        images = [lines[i].pixels for i in batch]
        pooled = stem.run(None, {name: batch_tensor(images, normalisation).numpy()})[0][:, :, 0]
        widest = max(image.shape[1] for image in images)
        for slot, (index, image) in enumerate(zip(batch, images, strict=True)):
            steps = max(1, math.ceil(pooled.shape[2] * image.shape[1] / widest))
            features[index] = torch.from_numpy(pooled[slot, :, :steps].copy())
    blank = stem.run(None, {name: np.zeros((1, 3, lines[0].pixels.shape[0], 512), np.float32)})[0][0, :, 0]
    return features, torch.from_numpy(blank[:, blank.shape[1] // 2].copy())


def padded(features: Sequence[torch.Tensor], padding: torch.Tensor) -> torch.Tensor:
    """(N, C, 1, longest T): the features side by side, the shorter ones continued with the padding column."""
    longest = max(feature.shape[1] for feature in features)
    batch = padding[None, :, None].repeat(len(features), 1, longest)
    for slot, feature in enumerate(features):
        batch[slot, :, : feature.shape[1]] = feature
    return batch[:, :, None, :]
