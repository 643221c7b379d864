"""The Stage 1 training config (`models/configs/stage1_*.yaml`), read with `models.config.load_config`."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SyntheticPages:
    """Pages to generate into `OUT/pages` before training (`models.synthetic.pages.generate_pages`)."""

    pages: int
    seed: int
    width: int
    height: int


@dataclass(frozen=True)
class DataConfig:
    """Where the pages come from (a folder, or generated), how many are held out for calibration and
    evaluation, and how training patches are cut: pages scaled as the detector scales them (longest side
    fitted to `input_size`) times a random factor in `scale_range`, then cropped to `patch` squares."""

    input_size: int
    patch: int
    held_out: int
    pages: Path | None = None
    synthetic: SyntheticPages | None = None
    scale_range: tuple[float, float] = (1.0, 1.0)
    shrink_ratio: float = 0.4
    patches_per_epoch: int = 64


@dataclass(frozen=True)
class ModelConfig:
    """U-Net size: resolutions and the channels of the first one."""

    base_channels: int = 16
    levels: int = 4


@dataclass(frozen=True)
class TrainingConfig:
    """Optimisation (AdamW, one-cycle learning rate); `threads` 0 leaves torch's default."""

    epochs: int
    batch_size: int
    learning_rate: float
    weight_decay: float = 1e-4
    dice_weight: float = 1.0
    seed: int = 0
    threads: int = 0


@dataclass(frozen=True)
class CalibrationConfig:
    """Post-processing settings tried on the held-out pages; the best (COCO mask AP) goes in the manifest."""

    binary_thresholds: tuple[float, ...] = (0.3, 0.5)
    unclip_ratios: tuple[float, ...] = (1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)


@dataclass(frozen=True)
class Stage1Config:
    """Everything one Stage 1 training run needs."""

    name: str
    version: str
    data: DataConfig
    training: TrainingConfig
    model: ModelConfig = ModelConfig()
    calibration: CalibrationConfig = CalibrationConfig()
