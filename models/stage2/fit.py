"""The CRNN training loop: CTC on width-bucketed, augmented batches; warm-up then cosine learning rate over
whichever limit (epochs or minutes) comes first; early stopping on the validation CER."""

import math
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass

import jiwer
import numpy as np
import torch

from ocr_onnx.manifest import Normalisation

from .augment import jitter
from .charset import BLANK, Charset
from .crnn import Crnn, CrnnShape
from .line_batches import LineSample, batch_tensor, width_batches

WARM_UP = 0.1  # share of the run spent raising the learning rate
MAX_GRADIENT_NORM = 5.0


@dataclass(frozen=True)
class Training:
    """Batch size, learning rate and limits: at most `max_epochs` and `max_minutes`, stopping early after
    `patience` epochs without a better validation CER. `threads` 0 leaves torch's default."""

    batch_size: int = 16
    max_epochs: int = 50
    patience: int = 6
    max_minutes: float = 10.0
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    augment: bool = True
    seed: int = 0
    threads: int = 0


@dataclass(frozen=True)
class Epoch:
    """One epoch's mean training loss and validation CER."""

    epoch: int
    loss: float
    val_cer: float


def learning_rate_factor(progress: float) -> float:
    """Share of the peak learning rate at `progress` (0..1) through the run: linear warm-up, cosine decay."""
    if progress < WARM_UP:
        return max(progress / WARM_UP, 0.01)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - WARM_UP) / (1 - WARM_UP))))


class Progress:
    """How far the run is: the larger of the share of steps done and the share of the time budget used."""

    def __init__(self, total_steps: int, minutes: float) -> None:
        self.total_steps, self.seconds = total_steps, minutes * 60
        self.started, self.steps = time.monotonic(), 0

    def step(self) -> float:
        self.steps += 1
        return max(self.steps / self.total_steps, (time.monotonic() - self.started) / self.seconds)


def fit(
    shape: CrnnShape,
    plan: Training,
    normalisation: Normalisation,
    charset: Charset,
    train: Sequence[LineSample],
    val: Sequence[LineSample],
    device: torch.device,
) -> tuple[Crnn, list[Epoch]]:
    """Train a CRNN; the model of the best validation CER and every epoch's numbers."""
    rng = random.Random(plan.seed)
    torch.manual_seed(plan.seed)
    model = Crnn(shape, len(charset)).to(device)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=plan.learning_rate * learning_rate_factor(0.0), weight_decay=plan.weight_decay
    )
    ctc = torch.nn.CTCLoss(blank=BLANK, zero_infinity=True)
    targets = [torch.tensor(charset.encode(sample.text), dtype=torch.long) for sample in train]
    widths = [sample.pixels.shape[1] for sample in train]
    progress = Progress(plan.max_epochs * math.ceil(len(train) / plan.batch_size), plan.max_minutes)
    history: list[Epoch] = []
    best_state, done = model.state_dict(), 0.0
    while done < 1.0 and len(history) < plan.max_epochs:
        model.train()
        losses = []
        for batch in width_batches(widths, plan.batch_size, rng):
            images = [jitter(train[i].pixels, rng) if plan.augment else train[i].pixels for i in batch]
            pixels = batch_tensor(images, normalisation).to(device)
            losses.append(ctc_step(model, optimiser, ctc, pixels, [targets[i] for i in batch]))
            done = progress.step()
            for group in optimiser.param_groups:
                group["lr"] = plan.learning_rate * learning_rate_factor(done)
            if done >= 1.0:
                break
        cer = character_error_rate(model, charset, normalisation, val, plan.batch_size, device)
        history.append(Epoch(len(history) + 1, float(np.mean(losses)), cer))
        print(f"epoch {len(history)}: loss {history[-1].loss:.4f}, val CER {cer:.4f}", flush=True)
        if cer <= min(epoch.val_cer for epoch in history):
            best_state = {key: value.detach().clone() for key, value in model.state_dict().items()}
        elif len(history) - min(history, key=lambda epoch: epoch.val_cer).epoch >= plan.patience:
            break
    model.load_state_dict(best_state)
    return model.eval(), history


def ctc_step(
    model: Crnn,
    optimiser: torch.optim.Optimizer,
    ctc: torch.nn.CTCLoss,
    pixels: torch.Tensor,
    labels: Sequence[torch.Tensor],
) -> float:
    """One optimiser step on a batch; every sequence spans the batch's full width, padding included (the
    server decodes it all, so the model learns to read padding as blanks)."""
    log_probs = model.logits(pixels).log_softmax(-1).permute(1, 0, 2)  # (T, N, C)
    steps, count = log_probs.shape[0], log_probs.shape[1]
    loss = ctc(
        log_probs,
        torch.cat(list(labels)).to(pixels.device),
        torch.full((count,), steps, dtype=torch.long),
        torch.tensor([len(label) for label in labels], dtype=torch.long),
    )
    optimiser.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRADIENT_NORM)
    optimiser.step()
    return float(loss.item())


def read_lines(
    model: Crnn,
    charset: Charset,
    normalisation: Normalisation,
    samples: Sequence[LineSample],
    batch_size: int,
    device: torch.device,
) -> list[str]:
    """Greedy CTC text of each sample, read in batches of similar width as the server reads them."""
    model.eval()
    texts = [""] * len(samples)
    with torch.no_grad():
        for batch in width_batches([sample.pixels.shape[1] for sample in samples], batch_size):
            pixels = batch_tensor([samples[i].pixels for i in batch], normalisation).to(device)
            for index, best in zip(batch, model.logits(pixels).argmax(-1).tolist(), strict=True):
                texts[index] = charset.decode_greedy(best)
    return texts


def character_error_rate(
    model: Crnn,
    charset: Charset,
    normalisation: Normalisation,
    samples: Sequence[LineSample],
    batch_size: int,
    device: torch.device,
) -> float:
    """CER (jiwer) of greedy decoding over `samples`."""
    texts = read_lines(model, charset, normalisation, samples, batch_size, device)
    return float(jiwer.cer([sample.text for sample in samples], texts))
