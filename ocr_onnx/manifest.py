"""Model manifests: which ONNX file a model is, how its input is made, and its checksum (STYLE note 8)."""

import hashlib
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np

from .allowed_charset import allowed_characters

T = TypeVar("T")
Task = Literal["detection", "recognition", "layout"]


class ManifestError(ValueError):
    """A manifest that cannot be read, or a model file that does not match it."""


@dataclass(frozen=True)
class Normalisation:
    """Pixel layout the network expects: channel order, then `(value / 255 - mean) / std` per channel."""

    channel_order: Literal["RGB", "BGR"]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def apply(self, image: np.ndarray) -> np.ndarray:
        """An (H, W, 3) uint8 RGB image as the network's (3, H, W) float32 input."""
        pixels = image[..., ::-1] if self.channel_order == "BGR" else image
        scaled = pixels.astype(np.float32) / 255.0
        return ((scaled - np.float32(self.mean)) / np.float32(self.std)).transpose(2, 0, 1)


@dataclass(frozen=True)
class DbPostprocess:
    """Differentiable-binarisation constants a detection model was trained with."""

    binary_threshold: float
    unclip_ratio: float


@dataclass(frozen=True)
class LayoutPostprocess:
    """How a layout model's (PP-PicoDet) outputs become boxes: its fixed input width (the height is
    `input_size`), the strides of its heads, the score and NMS thresholds, and the region type of each class
    (the class's own name where the mapping leaves it out)."""

    input_width: int
    strides: tuple[int, ...]
    score_threshold: float
    nms_iou: float
    region_types: tuple[str, ...]


@dataclass(frozen=True)
class CropRecipe:
    """How line crops must be cut from a page for a recognition model (`background` fills what is masked)."""

    mask_polygon: bool
    background: tuple[int, int, int]
    deskew: bool
    target_height: int


@dataclass(frozen=True)
class ModelManifest:
    """One model: its file and checksum, its input (`input_size`: the detector's longest side, or the
    recogniser's crop height, the layout model's input height) and its task's part: `classes` and `db` for
    detection; for recognition `charset_key`, the ONNX metadata entry listing the characters one per line,
    the `crop` recipe and the `allowed_charset` decoding may write (None: every character of the model);
    `classes` and `layout` for a layout model."""

    name: str
    version: str
    task: Task
    path: Path
    sha256: str
    input_size: int
    normalisation: Normalisation
    classes: tuple[str, ...] = ()
    db: DbPostprocess | None = None
    charset_key: str | None = None
    crop: CropRecipe | None = None
    allowed_charset: frozenset[str] | None = None
    layout: LayoutPostprocess | None = None

    @property
    def key(self) -> str:
        """What predictions made with this model are cached under: name and version, and a digest of the
        allowed charset when there is one (changing it changes what the model writes)."""
        if self.allowed_charset is None:
            return f"{self.name}@{self.version}"
        digest = hashlib.sha256("".join(sorted(self.allowed_charset)).encode()).hexdigest()[:12]
        return f"{self.name}@{self.version}+charset:{digest}"

    def verify(self) -> Path:
        """Return the model file's path once its sha256 matches the manifest; raise `ManifestError` if not."""
        if not self.path.is_file():
            raise ManifestError(f"model {self.name!r}: file {self.path} not found")
        digest = file_sha256(self.path)
        if digest != self.sha256:
            raise ManifestError(
                f"model {self.name!r}: {self.path} has sha256 {digest}, "
                f"the manifest expects {self.sha256}; the file was changed or is another version"
            )
        return self.path


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(path: Path | str) -> ModelManifest:
    """Read a JSON manifest; its model is `file` inside the installed `package`, or next to the manifest."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return _from_dict(raw, path.parent)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"manifest {path}: {exc}") from exc


def _from_dict(raw: dict[str, Any], folder: Path) -> ModelManifest:
    task = raw["task"]
    if task not in ("detection", "recognition", "layout"):
        raise ManifestError(f"unknown task {task!r}")
    norm = raw["normalisation"]
    manifest = ModelManifest(
        name=raw["name"],
        version=raw["version"],
        task=task,
        path=_model_path(raw, folder),
        sha256=raw["sha256"].lower(),
        input_size=int(raw["input_size"]),
        normalisation=Normalisation(
            norm["channel_order"], _triple(norm["mean"], float), _triple(norm["std"], float)
        ),
        classes=tuple(raw.get("classes", ())),
        db=DbPostprocess(**raw["db"]) if task == "detection" else None,
        charset_key=raw["charset_key"] if task == "recognition" else None,
        crop=_crop(raw["crop"], int(raw["input_size"])) if task == "recognition" else None,
        allowed_charset=allowed_characters(raw["allowed_charset"]) if "allowed_charset" in raw else None,
        layout=_layout(raw["layout"], tuple(raw["classes"])) if task == "layout" else None,
    )
    if manifest.normalisation.channel_order not in ("RGB", "BGR"):
        raise ManifestError(f"unknown channel order {manifest.normalisation.channel_order!r}")
    if task in ("detection", "layout") and not manifest.classes:
        raise ManifestError(f"a {task} model needs its region classes in 'classes'")
    return manifest


def _model_path(raw: dict[str, Any], folder: Path) -> Path:
    package = raw.get("package")
    if package is None:
        return folder / raw["file"]
    spec = importlib.util.find_spec(package)  # finds the folder without running the package's code
    if spec is None or not spec.submodule_search_locations:
        raise ManifestError(f"package {package!r} with the model file is not installed (see scripts/setup)")
    return Path(next(iter(spec.submodule_search_locations))) / raw["file"]


def _layout(raw: dict[str, Any], classes: tuple[str, ...]) -> LayoutPostprocess:
    types = raw.get("region_types", {})
    unknown = set(types) - set(classes)
    if unknown:
        raise ManifestError(f"'region_types' names classes the model does not have: {sorted(unknown)}")
    return LayoutPostprocess(
        input_width=int(raw["input_width"]),
        strides=tuple(int(stride) for stride in raw["strides"]),
        score_threshold=float(raw["score_threshold"]),
        nms_iou=float(raw["nms_iou"]),
        region_types=tuple(types.get(name, name) for name in classes),
    )


def _crop(raw: dict[str, Any], target_height: int) -> CropRecipe:
    return CropRecipe(
        mask_polygon=bool(raw["mask_polygon"]),
        background=_triple(raw["background"], int),
        deskew=bool(raw["deskew"]),
        target_height=target_height,
    )


def _triple(values: list[Any], convert: Callable[[Any], T]) -> tuple[T, T, T]:
    if len(values) != 3:
        raise ManifestError(f"expected three values, got {values!r}")
    return convert(values[0]), convert(values[1]), convert(values[2])
