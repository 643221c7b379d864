"""Which served image an annotation file describes: `--identifier`, an `--image-map` row, an image named
like the file, or else the image the annotations themselves name.

Exports name the image as it was called where they were made (ALTO `fileName` `bpt6k822192_f12.tif`, PAGE
`imageFilename`), rarely as the server knows it; the annotation file and its image usually share a stem
(`gt/p12.xml`, `images/p12.jpg`). A candidate counts when the server answers for it (`info.json`).
"""

import csv
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from urllib.parse import unquote, urlsplit

from extensions.annotations import AnnotatedRegion, AnnotationError

IIIF_MARKER = "/iiif/3/"
FORMAT_TAGS = ("page", "alto", "gt", "w3c", "iiif", "ocr")
"""Second suffixes dropped from an annotation file's stem: `p12.page.xml` also names the image `p12`."""
MAP_COLUMNS = ("annotation", "image")

ImageExists = Callable[[str], Awaitable[bool]]


def identifier_of(source_image: str) -> str:
    """The image identifier an annotation's source names: the segment after `/iiif/3/` of a IIIF URL, else
    the basename of the file name or URL."""
    path = urlsplit(source_image).path if "://" in source_image else source_image
    if IIIF_MARKER in path:
        return unquote(path.split(IIIF_MARKER, 1)[1].split("/")[0])
    return unquote(path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1])


def annotation_stems(path: Path) -> list[str]:
    """The image names an annotation file suggests: its stem, and that stem without a format tag."""
    stem = PurePath(path.stem)
    tagged = stem.suffix.lower().lstrip(".") in FORMAT_TAGS
    return [str(stem), stem.stem] if tagged else [str(stem)]


def read_image_map(path: Path, columns: Sequence[str] = MAP_COLUMNS) -> dict[str, str]:
    """An `--image-map` file: tab-separated with a header row, whose `columns` name the annotation file (a
    name, stem or path) and its image (an identifier, or a file name or path of which the basename counts);
    other columns are ignored, so a dataset's own manifest serves."""
    if len(columns) != 2:
        raise ValueError(f"an image map needs two columns (annotation, image), not {', '.join(columns)}")
    with path.open(encoding="utf-8", newline="") as table:
        rows = csv.DictReader(table, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [name for name in columns if name not in (rows.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: the header row has no column {', '.join(map(repr, missing))}")
        annotation, image = columns
        return {
            identifier_of(row[annotation]): identifier_of(row[image])
            for row in rows
            if row.get(annotation) and row.get(image)
        }


def source_image(regions: Sequence[AnnotatedRegion]) -> str | None:
    """The one image the regions name as their source, None when they name none or several."""
    sources = {identifier_of(r.source_image) for r in regions if r.source_image}
    return sources.pop() if len(sources) == 1 else None


@dataclass(frozen=True)
class ImageFinder:
    """Names the image of each annotation file; `exists` asks the server whether it has an identifier."""

    exists: ImageExists
    image_map: Mapping[str, str] = field(default_factory=dict)
    given: str | None = None

    async def identifier(self, path: Path, regions: Sequence[AnnotatedRegion]) -> str:
        """`given`; else the file's row in `image_map` (by name or stem); else the first image the server has
        of the file's stems, its source image first when it shares the stem (`a.page.xml` and `a.png`); else
        the source image, found or not (its crops then fail one by one, each with the server's reason)."""
        if self.given:
            return self.given
        stems = annotation_stems(path)
        mapped = next((self.image_map[n] for n in (path.name, *stems) if n in self.image_map), None)
        if mapped:
            return mapped
        source = source_image(regions)
        for stem in stems:
            for candidate in ([source] if source and PurePath(source).stem == stem else []) + [stem]:
                if await self.exists(candidate):
                    return candidate
        if source is None:
            named = ", ".join(sorted({r.source_image for r in regions if r.source_image})) or "none"
            raise AnnotationError(
                str(path),
                f"no image named {' or '.join(stems)}, and not one source image (found {named}); "
                "give --image-map or --identifier",
            )
        return source
