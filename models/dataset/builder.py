"""Build a Stage 2 dataset: fetch every annotated line's crop, write image + text pairs and the manifest."""

import asyncio
import hashlib
import json
import math
import struct
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyvips
from tqdm import tqdm

from extensions.line_crops import crop_inside, levelled_window

from .fetcher import CropFetcher, FetchError
from .image_names import ImageFinder
from .line_items import ItemSelection, LineItem, collect_items
from .masked_url import CropOptions, CropRequest, crop_request
from .records import (
    ERRORS_FILE,
    LINES_FOLDER,
    SKIPPED_FILE,
    Colour,
    CropSettings,
    DatasetInfo,
    LineRecord,
    append_record,
    read_records,
    safe_name,
    write_atomic,
    write_info,
    write_records,
)
from .splits import SPLIT_NAMES


@dataclass(frozen=True)
class BuildOptions:
    """Everything about a build except where the crops come from; `image_map` and `identifier` name the
    pages' images (see `image_names.ImageFinder`)."""

    crop: CropOptions = field(default_factory=CropOptions)
    background: Colour = (255, 255, 255)
    ratios: Mapping[str, float] = field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})
    seed: int = 0
    selection: ItemSelection = field(default_factory=ItemSelection)
    image_map: Mapping[str, str] = field(default_factory=dict)
    identifier: str | None = None
    concurrency: int = 4
    progress: bool | None = None  # None: a bar on a terminal only


@dataclass(frozen=True)
class BuildSummary:
    """What a build did: lines per split, fetched and resumed, failed, regions left out, time taken."""

    splits: Mapping[str, int]
    fetched: int
    resumed: int
    failed: int
    skipped: Mapping[str, int]
    annotation_problems: int
    seconds: float

    @property
    def ok(self) -> bool:
        """Every line and every annotation file made it."""
        return self.failed == 0 and self.annotation_problems == 0

    def as_dict(self) -> dict[str, Any]:
        """The summary as dataset.json stores it."""
        rate = self.fetched / self.seconds if self.seconds > 0 else 0.0
        return {
            "splits": dict(self.splits),
            "fetched": self.fetched,
            "resumed": self.resumed,
            "failed": self.failed,
            "skipped": dict(self.skipped),
            "annotation_problems": self.annotation_problems,
            "seconds": round(self.seconds, 3),
            "fetched_per_second": round(rate, 2),
        }

    def text(self) -> str:
        """The summary as the command prints it."""
        splits = ", ".join(f"{name} {count}" for name, count in self.splits.items())
        skipped = ", ".join(f"{why} {count}" for why, count in sorted(self.skipped.items())) or "none"
        rate = self.fetched / self.seconds if self.seconds > 0 else 0.0
        lines = [
            f"{sum(self.splits.values())} lines ({splits}); fetched {self.fetched}, resumed {self.resumed}",
            f"regions left out: {skipped}" + (f" (each in {SKIPPED_FILE})" if self.skipped else ""),
            f"{self.seconds:.1f} s, {rate:.1f} fetched lines/s",
        ]
        if not self.ok:
            lines.append(
                f"FAILED: {self.failed} lines, {self.annotation_problems} annotation files; see {ERRORS_FILE}"
            )
        return "\n".join(lines)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def without_rotation_margins(data: bytes, request: CropRequest) -> bytes:
    """A deskewed crop cut to its line: the margins that rotating the whole box added are dropped, as
    `extensions.line_crops.cut_line` does for the recogniser."""
    image = pyvips.Image.new_from_buffer(data, "")
    _, _, width, height = request.bbox
    turn = math.radians(request.rotation)
    scale = image.width / (width * abs(math.cos(turn)) + height * abs(math.sin(turn)))
    size = (round(width * scale), round(height * scale))
    window = levelled_window(request.polygon, request.bbox[:2], size, request.rotation, scale)
    return crop_inside(image, window).pngsave_buffer()


def line_record(item: LineItem, request: CropRequest, url: str, crop: str, data: bytes) -> LineRecord:
    """The manifest record of a line whose crop (fetched as `request` from `url`) is `data`."""
    stem = f"{LINES_FOLDER}/{safe_name(item.id)}"
    width, height = png_size(data)
    return LineRecord(
        id=item.id,
        split=item.split,
        image=f"{stem}.png",
        text_file=f"{stem}.txt",
        text=item.text,
        identifier=item.identifier,
        region_id=item.region.id,
        region_type=item.region.region_type,
        properties=dict(item.region.properties),
        polygon=item.region.polygon,
        bbox=request.bbox,
        url=url,
        crop=crop,
        rotation=request.rotation,
        width=width,
        height=height,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def finished_crop(out: Path, item: LineItem, path: str, previous: LineRecord | None) -> bytes | None:
    """The crop of an earlier run when its record asked for the same crop and text and both files are
    intact (the PNG's sha256 matches); None when the line must be fetched."""
    if previous is None or previous.text != item.text or not previous.url.endswith(path):
        return None
    image, text_file = out / previous.image, out / previous.text_file
    if not (image.is_file() and text_file.is_file()) or text_file.read_text(encoding="utf-8") != item.text:
        return None
    data = image.read_bytes()
    return data if hashlib.sha256(data).hexdigest() == previous.sha256 else None


class DatasetBuild:
    """One run over the items: resume what is finished, fetch the rest with a pool of workers."""

    def __init__(self, out: Path, fetcher: CropFetcher, options: BuildOptions) -> None:
        self.out = out
        self.fetcher = fetcher
        self.options = options
        self.records: dict[str, LineRecord] = {}
        self.failed = 0
        self.fetched = 0

    async def run(self, items: Sequence[LineItem]) -> int:
        """Fetch every item that is not finished yet; returns how many were resumed."""
        previous = {record.id: record for record in read_records(self.out)}
        pending: list[tuple[LineItem, CropRequest]] = []
        for item in items:
            request = crop_request(item.identifier, item.region.polygon, self.options.crop)
            data = finished_crop(self.out, item, request.path, previous.get(item.id))
            if data is None:
                pending.append((item, request))
            else:
                url = previous[item.id].url
                self.records[item.id] = line_record(item, request, url, self.options.crop.crop, data)
        resumed = len(self.records)
        bar = tqdm(
            total=len(items),
            initial=resumed,
            unit="line",
            desc="crops",
            file=sys.stderr,
            disable=None if self.options.progress is None else not self.options.progress,
        )
        with bar:
            shared = iter(pending)  # every worker takes the next item from the same iterator
            workers = [self.worker(shared, bar) for _ in range(max(1, self.options.concurrency))]
            await asyncio.gather(*workers)
        return resumed

    async def worker(self, pending: Iterator[tuple[LineItem, CropRequest]], bar: tqdm) -> None:
        """Fetch items until none are left."""
        for item, request in pending:
            await self.fetch(item, request)
            bar.update(1)

    async def fetch(self, item: LineItem, request: CropRequest) -> None:
        """Fetch one crop and store it, or record why it failed."""
        url = self.fetcher.url(request.path)
        try:
            data = await self.fetcher.fetch(request.path)
        except FetchError as error:
            self.failed += 1
            entry = {"id": item.id, "url": url, "status": error.status, "reason": error.reason}
            append_error(self.out, entry)
            return
        if request.rotation:
            data = without_rotation_margins(data, request)
        record = line_record(item, request, url, self.options.crop.crop, data)
        write_atomic(self.out / record.image, data)
        write_atomic(self.out / record.text_file, item.text.encode())
        append_record(self.out, record)
        self.records[item.id] = record
        self.fetched += 1


def json_line(entry: Mapping[str, object]) -> str:
    """One line of a JSON lines file."""
    return json.dumps(entry, ensure_ascii=False) + "\n"


def append_error(out: Path, entry: Mapping[str, object]) -> None:
    """One line of `errors.jsonl`."""
    with (out / ERRORS_FILE).open("a", encoding="utf-8") as errors:
        errors.write(json_line(entry))


async def build_dataset(
    annotations: Sequence[Path], out: Path, fetcher: CropFetcher, server: str, options: BuildOptions
) -> BuildSummary:
    """Build (or resume) the dataset in `out` from the annotation files; `server` is what dataset.json
    says the crops came from."""
    started = time.monotonic()
    (out / LINES_FOLDER).mkdir(parents=True, exist_ok=True)
    (out / ERRORS_FILE).write_text("", encoding="utf-8")
    images = ImageFinder(fetcher.image_exists, options.image_map, options.identifier)
    collected = await collect_items(annotations, options.selection, options.seed, options.ratios, images)
    for problem in collected.problems:
        append_error(out, problem)
    write_atomic(out / SKIPPED_FILE, "".join(json_line(entry) for entry in collected.skipped).encode())
    build = DatasetBuild(out, fetcher, options)
    resumed = await build.run(collected.items)
    records = [build.records[item.id] for item in collected.items if item.id in build.records]
    write_records(out, records)
    splits = {name: sum(r.split == name for r in records) for name in SPLIT_NAMES}
    summary = BuildSummary(
        splits=splits,
        fetched=build.fetched,
        resumed=resumed,
        failed=build.failed,
        skipped=dict(collected.skipped_counts()),
        annotation_problems=len(collected.problems),
        seconds=time.monotonic() - started,
    )
    crop = options.crop
    info = DatasetInfo(
        server=server,
        crop=CropSettings(crop.crop == "mask", options.background, crop.deskew, crop.size, crop.margin),
        splits=dict(options.ratios),
        seed=options.seed,
        counts={**splits, "failed": build.failed},
        summary=summary.as_dict(),
    )
    write_info(out, info)
    return summary
