"""The Stage 2 dataset folder on disk: `dataset.json`, `manifest.jsonl`, `lines/*.png|txt`, and what was left
out (`skipped.jsonl`) or failed (`errors.jsonl`); read and write."""

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyvips

INFO_FILE = "dataset.json"
MANIFEST_FILE = "manifest.jsonl"
ERRORS_FILE = "errors.jsonl"
SKIPPED_FILE = "skipped.jsonl"
LINES_FOLDER = "lines"
VERSION = 1
SPLITS = ("train", "val", "test")

Colour = tuple[int, int, int]


@dataclass(frozen=True)
class CropSettings:
    """How the line crops were cut: masked to the polygon or its box, fill colour, deskew, IIIF size and
    the pixels the polygon was grown by."""

    mask_polygon: bool = True
    background: Colour = (255, 255, 255)
    deskew: bool = True
    size: str = "max"
    margin: float = 0.0


@dataclass(frozen=True)
class DatasetInfo:
    """`dataset.json`: where the crops came from, how they were cut, the split ratios and the final counts."""

    server: str
    crop: CropSettings
    splits: Mapping[str, float]
    seed: int
    counts: Mapping[str, int]
    version: int = VERSION
    summary: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class LineRecord:
    """One finished line of `manifest.jsonl`: the crop and text files, the region and the URL it came from."""

    id: str
    split: str
    image: str
    text_file: str
    text: str
    identifier: str
    region_id: str
    region_type: str
    properties: Mapping[str, str]
    polygon: tuple[tuple[float, float], ...]
    bbox: tuple[int, int, int, int]
    url: str
    crop: str
    rotation: float
    width: int
    height: int
    sha256: str


def safe_name(item_id: str) -> str:
    """A file stem for an item id (`identifier/region id`): `/` becomes `__`, anything else outside
    [A-Za-z0-9._-] `_`, and 8 hex digits of the id's hash keep ids that clean to the same text apart."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", item_id.replace("/", "__")).lstrip(".")
    return f"{cleaned[:120]}-{hashlib.sha256(item_id.encode()).hexdigest()[:8]}"


def record_from_json(raw: Mapping[str, object]) -> LineRecord:
    """A manifest line (parsed JSON) as a LineRecord."""
    values = dict(raw)
    values["properties"] = {str(k): str(v) for k, v in dict(values.get("properties") or {}).items()}
    values["polygon"] = tuple((float(x), float(y)) for x, y in values["polygon"])
    values["bbox"] = tuple(int(v) for v in values["bbox"])
    values["rotation"] = float(values["rotation"])
    return LineRecord(**values)


def record_to_json(record: LineRecord) -> str:
    """One manifest line (no newline) for a record."""
    raw = asdict(record)
    raw["properties"] = dict(record.properties)
    raw["polygon"] = [list(point) for point in record.polygon]
    raw["bbox"] = list(record.bbox)
    return json.dumps(raw, ensure_ascii=False)


def read_records(folder: Path) -> list[LineRecord]:
    """The records of `manifest.jsonl` in order; a later line for the same id replaces an earlier one."""
    path = Path(folder) / MANIFEST_FILE
    if not path.exists():
        return []
    records: dict[str, LineRecord] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = record_from_json(json.loads(line))
            records.pop(record.id, None)
            records[record.id] = record
    return list(records.values())


def append_record(folder: Path, record: LineRecord) -> None:
    """Add one finished line to `manifest.jsonl` (flushed, so an interrupted build keeps it)."""
    with (Path(folder) / MANIFEST_FILE).open("a", encoding="utf-8") as manifest:
        manifest.write(record_to_json(record) + "\n")


def write_records(folder: Path, records: Iterable[LineRecord]) -> None:
    """Replace `manifest.jsonl` with these records, atomically."""
    write_atomic(Path(folder) / MANIFEST_FILE, "".join(record_to_json(r) + "\n" for r in records).encode())


def info_from_json(raw: Mapping[str, object]) -> DatasetInfo:
    """`dataset.json` (parsed) as a DatasetInfo."""
    crop = dict(raw["crop"])
    crop["background"] = tuple(int(v) for v in crop["background"])
    return DatasetInfo(
        server=str(raw["server"]),
        crop=CropSettings(**crop),
        splits={str(k): float(v) for k, v in dict(raw["splits"]).items()},
        seed=int(raw["seed"]),
        counts={str(k): int(v) for k, v in dict(raw["counts"]).items()},
        version=int(raw.get("version", VERSION)),
        summary=dict(raw.get("summary") or {}),
    )


def write_info(folder: Path, info: DatasetInfo) -> None:
    """Write `dataset.json` atomically."""
    raw = asdict(info)
    raw["crop"]["background"] = list(info.crop.background)
    raw["splits"], raw["counts"], raw["summary"] = dict(info.splits), dict(info.counts), dict(info.summary)
    text = json.dumps({"version": raw.pop("version"), **raw}, indent=2, ensure_ascii=False) + "\n"
    write_atomic(Path(folder) / INFO_FILE, text.encode())


def read_dataset(folder: Path) -> tuple[DatasetInfo, list[LineRecord]]:
    """The dataset's `dataset.json` and its finished lines."""
    folder = Path(folder)
    info = info_from_json(json.loads((folder / INFO_FILE).read_text(encoding="utf-8")))
    return info, read_records(folder)


def load_crop(folder: Path, record: LineRecord, background: Colour = (255, 255, 255)) -> np.ndarray:
    """The record's crop as an (H, W, 3) uint8 RGB array, transparent pixels flattened onto `background`."""
    image = pyvips.Image.new_from_file(str(Path(folder) / record.image), access="sequential")
    if image.hasalpha():
        image = image.flatten(background=list(background))
    image = image.colourspace("srgb") if image.bands < 3 else image
    image = image.cast("uchar")
    array = np.ndarray(buffer=image.write_to_memory(), dtype=np.uint8, shape=(image.height, image.width, 3))
    return array.copy()


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename, so readers never see half a file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
