"""Train the Stage 1 U-Net from a YAML config, export it to ONNX, calibrate its post-processing, write the
manifest: `iiif-train train stage1 models/configs/stage1_tiny.yaml --out runs/stage1`."""

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch.nn import functional

from models.config import ConfigError, load_config
from models.evaluation.stage1_eval import AnnotatedPage
from models.onnx_export import export_onnx, verify_onnx, write_manifest
from ocr_onnx.detection import STRIDE
from ocr_onnx.manifest import DbPostprocess, ModelManifest, Normalisation

from .calibration import calibrate
from .config import DataConfig, Stage1Config, TrainingConfig
from .page_data import LinePatches, find_pages, load_page
from .unet import UNet

NORMALISATION = Normalisation("RGB", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CLASSES = ("line",)


def run(config: Path, out: Path, device: str | None = None) -> Path:
    """Train as `config` says, write `checkpoint.pt`, `model.onnx`, `calibration.json` and `manifest.json`
    into `out`, and return the manifest's path."""
    settings = checked(load_config(config, Stage1Config))
    out.mkdir(parents=True, exist_ok=True)
    target = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if settings.training.threads:
        torch.set_num_threads(settings.training.threads)
    torch.manual_seed(settings.training.seed)
    pages = find_pages(page_folder(settings.data, out))
    if settings.data.held_out >= len(pages):
        raise ConfigError(
            f"data.held_out: {settings.data.held_out} of {len(pages)} pages leaves none to train on"
        )
    training, held_out = pages[: -settings.data.held_out], pages[-settings.data.held_out :]
    print(f"{len(training)} training pages, {len(held_out)} held out; device {target}", flush=True)

    model = UNet(settings.model.base_channels, settings.model.levels)
    patches = LinePatches(
        [load_page(page) for page in training],
        patch=settings.data.patch,
        input_size=settings.data.input_size,
        scale_range=settings.data.scale_range,
        shrink_ratio=settings.data.shrink_ratio,
        normalisation=NORMALISATION,
        count=settings.data.patches_per_epoch,
        seed=settings.training.seed,
    )
    history = train(model.to(target), patches, settings.training, target)
    model = model.cpu().eval()
    checkpoint = {"model": model.state_dict(), "unet": asdict(settings.model), "history": history}
    torch.save(checkpoint, out / "checkpoint.pt")

    onnx_path = export_onnx(
        model,
        torch.zeros(1, 3, 2 * STRIDE, 2 * STRIDE),
        out / "model.onnx",
        dynamic_axes={0: "batch", 2: "height", 3: "width"},
        metadata={"shrink_ratio": str(settings.data.shrink_ratio), "config": config.name},
    )
    difference = verify_onnx(model, onnx_path, [patches[0][0][None], torch.randn(2, 3, 96, 160)])
    print(f"ONNX Runtime vs PyTorch: max abs difference {difference:.2e}", flush=True)

    manifest = calibrated_manifest(settings, onnx_path, held_out, out / "manifest.json")
    print(f"manifest: {manifest}")
    print(f"IIIF_ONNX_DET_MANIFEST={manifest}", flush=True)
    return manifest


def calibrated_manifest(
    settings: Stage1Config, onnx_path: Path, held_out: list[AnnotatedPage], path: Path
) -> Path:
    """Write the manifest with the post-processing that scores best on the held-out pages (all trials go
    into `calibration.json` beside it); returns its absolute path."""
    calibration = settings.calibration

    def write(db: DbPostprocess) -> ModelManifest:
        return write_manifest(
            path,
            name=settings.name,
            version=settings.version,
            task="detection",
            model_file=onnx_path,
            input_size=settings.data.input_size,
            normalisation=NORMALISATION,
            classes=CLASSES,
            db=db,
        )

    first = write(DbPostprocess(calibration.binary_thresholds[0], calibration.unclip_ratios[0]))
    trials = calibrate(first, held_out, calibration.binary_thresholds, calibration.unclip_ratios)
    rows = [{"db": asdict(trial.db), "scores": asdict(trial.scores)} for trial in trials]
    (path.parent / "calibration.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    best, scores = trials[0].db, trials[0].scores
    print(
        f"held-out pages, threshold {best.binary_threshold}, unclip ratio {best.unclip_ratio}: "
        f"mask AP {scores.ap:.3f}, AP50 {scores.ap50:.3f}, recall {scores.recall:.3f}, "
        f"precision {scores.precision:.3f}, mean IoU {scores.mean_iou:.3f}",
        flush=True,
    )
    write(best)
    return path.resolve()


def checked(settings: Stage1Config) -> Stage1Config:
    """The config, once its sizes fit the U-Net and the server's detector; raises ConfigError if not."""
    multiple = 2 ** (settings.model.levels - 1)
    if multiple > STRIDE:
        raise ConfigError(
            f"model.levels: at most {STRIDE.bit_length()}, as the server pads inputs to {STRIDE}"
        )
    if settings.data.patch % multiple:
        raise ConfigError(f"data.patch: {settings.data.patch} is not a multiple of {multiple}")
    if settings.data.held_out < 1:
        raise ConfigError("data.held_out: at least one page is needed to calibrate the post-processing")
    return settings


def page_folder(data: DataConfig, out: Path) -> Path:
    """The configured pages folder, or `out/pages` with the configured synthetic pages generated into it."""
    if (data.pages is None) == (data.synthetic is None):
        raise ConfigError("data: give either `pages` (a folder) or `synthetic` (pages to generate)")
    if data.synthetic is None:
        return data.pages  # type: ignore[return-value]
    from models.synthetic.pages import generate_pages

    synthetic = data.synthetic
    folder = out / "pages"
    generate_pages(folder, synthetic.pages, synthetic.seed, (synthetic.width, synthetic.height))
    return folder


def train(model: UNet, patches: LinePatches, settings: TrainingConfig, device: torch.device) -> list[float]:
    """AdamW with a one-cycle learning rate over all epochs; returns the mean loss of each epoch."""
    loader = torch.utils.data.DataLoader(patches, batch_size=settings.batch_size, drop_last=True)
    optimizer = torch.optim.AdamW(
        model.parameters(), settings.learning_rate, weight_decay=settings.weight_decay
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, settings.learning_rate, total_steps=settings.epochs * len(loader), pct_start=0.2
    )
    history = []
    for epoch in range(settings.epochs):
        started = time.perf_counter()
        patches.set_epoch(epoch)
        model.train()
        losses = []
        for images, targets in loader:
            loss = segmentation_loss(
                model.logits(images.to(device)), targets.to(device), settings.dice_weight
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
        history.append(sum(losses) / len(losses))
        seconds = time.perf_counter() - started
        print(f"epoch {epoch + 1}/{settings.epochs}: loss {history[-1]:.4f} ({seconds:.1f} s)", flush=True)
    return history


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, dice_weight: float) -> torch.Tensor:
    """Binary cross-entropy plus `dice_weight` times the dice loss of the whole batch."""
    probability = torch.sigmoid(logits)
    overlap = (probability * target).sum()
    dice = 1 - (2 * overlap + 1) / (probability.sum() + target.sum() + 1)
    return functional.binary_cross_entropy_with_logits(logits, target) + dice_weight * dice
