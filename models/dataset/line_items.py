"""Annotation files → the line items to fetch: one per text line of the wanted types, with its split."""

import glob
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from extensions.annotations import AnnotatedRegion, AnnotationError, load_annotations

from .splits import split_of

ANNOTATION_SUFFIXES = (".xml", ".json")
IIIF_MARKER = "/iiif/3/"


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
    """What to keep: region types, the shortest text, and the identifier for a single annotation file."""

    region_types: tuple[str, ...] = ("TextLine", "line")
    min_chars: int = 1
    identifier: str | None = None


@dataclass
class CollectedItems:
    """The items found, and what was left out and why (counted, never silently dropped)."""

    items: list[LineItem] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[dict[str, str]] = field(default_factory=list)


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


def identifier_of(source_image: str) -> str:
    """The image identifier an annotation's source names: the segment after `/iiif/3/` of a IIIF URL, else
    the basename of the file name or URL."""
    path = urlsplit(source_image).path if "://" in source_image else source_image
    if IIIF_MARKER in path:
        return unquote(path.split(IIIF_MARKER, 1)[1].split("/")[0])
    return unquote(path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])


def page_identifier(path: Path, regions: Sequence[AnnotatedRegion], given: str | None) -> str:
    """The identifier of the page an annotation file describes: `given`, or its regions' source image."""
    if given:
        return given
    sources = {r.source_image for r in regions if r.source_image}
    if len(sources) != 1:
        found = ", ".join(sorted(sources)) or "none"
        raise AnnotationError(str(path), f"expected one source image (found {found}); give --identifier")
    return identifier_of(sources.pop())


def collect_items(
    paths: Sequence[Path], selection: ItemSelection, seed: int, ratios: Mapping[str, float]
) -> CollectedItems:
    """The line items of every annotation file; one file per page (later ones for a page are skipped, such as
    the `NAME.w3c.json` next to `NAME.page.xml` in a synthetic folder)."""
    collected = CollectedItems()
    pages: set[str] = set()
    seen: set[str] = set()
    for path in paths:
        try:
            regions = load_annotations(path)
            identifier = page_identifier(path, regions, selection.identifier)
        except AnnotationError as error:
            collected.problems.append({"file": str(path), "reason": str(error)})
            continue
        if identifier in pages:
            collected.skipped["page_read_from_another_file"] += 1
            continue
        pages.add(identifier)
        split = split_of(identifier, seed, ratios)
        for region in regions:
            item = LineItem(identifier, region, (region.text or "").strip(), split)
            if region.region_type not in selection.region_types:
                collected.skipped["other_type"] += 1
            elif len(item.text) < selection.min_chars:
                collected.skipped["no_text"] += 1
            elif item.id in seen:
                collected.skipped["duplicate_id"] += 1
            else:
                seen.add(item.id)
                collected.items.append(item)
    return collected
