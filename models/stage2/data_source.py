"""Where a trainer's lines come from: a dataset folder, or synthetic pages built into one first."""

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

SYNTHETIC_PAGES = "pages"
SYNTHETIC_DATASET = "dataset"


@dataclass(frozen=True)
class SyntheticLines:
    """`pages` synthetic pages of `page_size` from `seed`, cut into a dataset by the builder in process
    (`crop` mask or rect, `deskew`, IIIF `size`, `margin`; `splits` train, val, test by page)."""

    pages: int
    seed: int = 0
    page_size: tuple[int, int] = (1240, 1754)
    crop: str = "mask"
    deskew: bool = True
    size: str = "max"
    margin: float = 0.0
    background: tuple[int, int, int] = (255, 255, 255)
    splits: dict[str, float] = field(default_factory=lambda: {"train": 0.8, "val": 0.1, "test": 0.1})


@dataclass(frozen=True)
class DataSource:
    """Either `dataset`, an existing dataset folder (contract 3), or `synthetic`, made into `OUT/dataset`."""

    dataset: Path | None = None
    synthetic: SyntheticLines | None = None


def prepare_dataset(source: DataSource, out: Path) -> Path:
    """The dataset folder to train on, built first when the source is synthetic (resumed if present)."""
    if (source.dataset is None) == (source.synthetic is None):
        raise ValueError("data: give either `dataset` (a folder) or `synthetic` (pages to make one from)")
    if source.dataset is not None:
        return source.dataset
    return build_synthetic(source.synthetic, out / SYNTHETIC_PAGES, out / SYNTHETIC_DATASET)


def build_synthetic(lines: SyntheticLines, pages: Path, dataset: Path) -> Path:
    """Render the pages into `pages`, then fetch their lines' crops in process into `dataset`."""
    from models.dataset.builder import BuildOptions, build_dataset
    from models.dataset.fetcher import IN_PROCESS, CropFetcher, in_process_transport
    from models.dataset.masked_url import CropOptions
    from models.synthetic.pages import generate_pages

    generate_pages(pages, lines.pages, lines.seed, lines.page_size)
    options = BuildOptions(
        crop=CropOptions(lines.crop, lines.deskew, lines.size, lines.margin),
        background=lines.background,
        ratios=lines.splits,
        seed=lines.seed,
        progress=False,
    )

    async def fetch_all() -> None:
        async with CropFetcher(transport=in_process_transport(pages)) as fetcher:
            summary = await build_dataset(
                sorted(pages.glob("*.page.xml")), dataset, fetcher, IN_PROCESS, options
            )
        if not summary.ok:
            raise RuntimeError(f"dataset {dataset}:\n{summary.text()}")

    asyncio.run(fetch_all())
    return dataset
