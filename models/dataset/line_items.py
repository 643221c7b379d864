"""Annotation files → the line items to fetch: one per text line of the wanted types, with its split."""

import glob
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from extensions.annotations import AnnotatedRegion, AnnotationError, load_annotations
from extensions.annotations.structure_types import STRUCTURE_TYPE, structure_type_names

from .image_names import ImageFinder
from .line_text import line_text
from .splits import split_of

ANNOTATION_SUFFIXES = (".xml", ".json")


@dataclass(frozen=True)
class LineItem:
    """One line to fetch: the image identifier, the annotated region, its cleaned text and split."""

    identifier: str
    region: AnnotatedRegion
    text: str
    split: str

    @property
    def id(self) -> str:
        """The dataset id, `identifier/region id`."""
        return f"{self.identifier}/{self.region.id}"


@dataclass(frozen=True)
class ItemSelection:
    """What to keep: region types, structure types to leave out (lowercase names, see
    `structure_type_names`) and the shortest text."""

    region_types: tuple[str, ...] = ("TextLine", "line")
    excluded_types: frozenset[str] = frozenset()
    min_chars: int = 1

    def reason_to_skip(self, item: LineItem) -> str | None:
        """Why the item is left out (`other_type:String`, `excluded_type:DefaultLine:Signature`, `no_text`),
        None when it is kept."""
        region = item.region
        if region.region_type not in self.region_types:
            return f"other_type:{region.region_type}"
        if structure_type_names(region) & self.excluded_types:
            return f"excluded_type:{dict(region.properties)[STRUCTURE_TYPE]}"
        if len(item.text) < self.min_chars:
            return "no_text"
        return None


@dataclass
class CollectedItems:
    """The items found; what was left out, one entry per region or file with the reason; unreadable files."""

    items: list[LineItem] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)

    def skip(self, path: Path, item: str, reason: str, detail: str = "") -> None:
        """Record one region (or page) left out of the dataset."""
        entry = {"file": str(path), "item": item, "reason": reason}
        self.skipped.append({**entry, "detail": detail} if detail else entry)

    def skipped_counts(self) -> Counter[str]:
        """How many were left out for each reason."""
        return Counter(entry["reason"] for entry in self.skipped)


def annotation_files(arguments: Sequence[str]) -> list[Path]:
    """Files given directly, the `.xml`/`.json` files of folders, and the matches of glob patterns."""
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found += sorted(
                p for p in path.iterdir() if p.suffix.lower() in ANNOTATION_SUFFIXES and p.is_file()
            )
        elif path.exists():
            found.append(path)
        else:
            matches = sorted(Path(m) for m in glob.glob(argument, recursive=True))
            if not matches:
                raise FileNotFoundError(f"no annotation file matches {argument!r}")
            found += [m for m in matches if m.is_file()]
    return list(dict.fromkeys(found))


async def collect_items(
    paths: Sequence[Path],
    selection: ItemSelection,
    seed: int,
    ratios: Mapping[str, float],
    images: ImageFinder,
) -> CollectedItems:
    """The line items of every annotation file; one file per page (later ones for a page are skipped, such as
    the `NAME.w3c.json` next to `NAME.page.xml` in a synthetic folder). Texts go through `line_text`."""
    collected = CollectedItems()
    pages: set[str] = set()
    seen: set[str] = set()
    for path in paths:
        try:
            regions = load_annotations(path)
            identifier = await images.identifier(path, regions)
        except AnnotationError as error:
            collected.problems.append({"file": str(path), "reason": str(error)})
            continue
        if identifier in pages:
            collected.skip(path, identifier, "page_read_from_another_file")
            continue
        pages.add(identifier)
        for skipped in regions.skipped:
            collected.skip(path, f"{identifier}/{skipped.item}", "no_outline", skipped.reason)
        split = split_of(identifier, seed, ratios)
        for region in regions:
            item = LineItem(identifier, region, line_text(region.text or ""), split)
            reason = selection.reason_to_skip(item) or ("duplicate_id" if item.id in seen else None)
            if reason:
                collected.skip(path, item.id, reason)
            else:
                seen.add(item.id)
                collected.items.append(item)
    return collected
