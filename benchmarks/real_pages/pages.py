"""The pages of a ground-truth folder (`manifest.tsv`: id, dataset, split, image, gt) and which to run."""

import csv
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

SPLITS = ("dev", "train", "all")


@dataclass(frozen=True)
class PageEntry:
    """One page: its id (the server's identifier: the image's name without suffix), data set and files."""

    id: str
    dataset: str
    split: str
    image: Path
    gt: Path


def read_manifest(folder: Path) -> list[PageEntry]:
    """The rows of `folder/manifest.tsv` in file order, their paths made absolute."""
    with (folder / "manifest.tsv").open(encoding="utf-8", newline="") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        PageEntry(row["id"], row["dataset"], row["split"], folder / row["image"], folder / row["gt"])
        for row in rows
    ]


def select_pages(
    pages: Sequence[PageEntry], split: str, datasets: Collection[str] = (), limit: int | None = None
) -> list[PageEntry]:
    """The pages of `split` ("all": both) in the given data sets (none given: all), the first `limit` of
    each data set in manifest order."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
    chosen: list[PageEntry] = []
    taken: dict[str, int] = {}
    for page in pages:
        if (split != "all" and page.split != split) or (datasets and page.dataset not in datasets):
            continue
        if limit is None or taken.get(page.dataset, 0) < limit:
            chosen.append(page)
            taken[page.dataset] = taken.get(page.dataset, 0) + 1
    return chosen
