"""`iiif-train dataset build ANNOTATIONS... --out DIR`: line crops by masked IIIF URL, split by page."""

import argparse
import asyncio
import sys
from pathlib import Path


def colour(text: str) -> tuple[int, int, int]:
    """`255,255,255` as an RGB triple."""
    parts = tuple(int(part) for part in text.split(","))
    if len(parts) != 3 or not all(0 <= part <= 255 for part in parts):
        raise argparse.ArgumentTypeError(f"expected R,G,B with values 0..255, not {text!r}")
    return parts  # type: ignore[return-value]


def names(text: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def build(args: argparse.Namespace) -> None:
    """Run the build and print its summary; exit 1 when a line or an annotation file failed."""
    from .builder import BuildOptions, BuildSummary, build_dataset
    from .fetcher import IN_PROCESS, CropFetcher, in_process_transport
    from .image_names import read_image_map
    from .line_items import ItemSelection, annotation_files
    from .masked_url import CropOptions
    from .splits import parse_ratios

    try:
        ratios = parse_ratios(args.splits)
        annotations = annotation_files(args.annotations)
        columns = names(args.image_map_columns)
        image_map = read_image_map(Path(args.image_map), columns) if args.image_map else {}
    except (ValueError, OSError) as error:
        sys.exit(f"dataset build: {error}")
    if args.identifier and len(annotations) != 1:
        sys.exit("dataset build: --identifier needs exactly one annotation file")
    options = BuildOptions(
        crop=CropOptions(args.crop, args.deskew, args.size, args.margin),
        background=args.background,
        ratios=ratios,
        seed=args.seed,
        selection=ItemSelection(
            names(args.region_types),
            frozenset(name.lower() for name in names(args.exclude_types)),
            args.min_chars,
        ),
        image_map=image_map,
        identifier=args.identifier,
        concurrency=args.concurrency,
        progress=args.progress,
    )
    transport = in_process_transport(Path(args.images)) if args.images else None
    fetcher = CropFetcher(args.server, transport, args.retries, args.timeout, args.concurrency)

    async def fetch_all() -> BuildSummary:
        async with fetcher:
            return await build_dataset(
                annotations, Path(args.out), fetcher, args.server or IN_PROCESS, options
            )

    summary = asyncio.run(fetch_all())
    print(f"dataset {args.out}:\n{summary.text()}")
    if not summary.ok:
        sys.exit(1)


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `dataset build` to `iiif-train`."""
    dataset = commands.add_parser("dataset", help="build Stage 2 (line recognition) datasets")
    actions = dataset.add_subparsers(dest="dataset_command", required=True)
    parser = actions.add_parser(
        "build",
        help="fetch every annotated text line by its masked IIIF URL; write crops, texts and manifest.jsonl",
        description="Re-running resumes: finished lines (crop, text and manifest entry intact) are skipped.",
    )
    parser.add_argument("annotations", nargs="+", help="annotation files, folders or glob patterns")
    parser.add_argument("--out", required=True, help="dataset folder (created; resumed when it exists)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--server", help="a running IIIF server: http://host:port or its IIIF base URL")
    source.add_argument("--images", help="image folder, served in process (no server needed)")
    parser.add_argument("--identifier", help="the image identifier (one annotation file only)")
    parser.add_argument(
        "--image-map",
        help="TSV with a header row pairing annotation files (name, stem or path) with image identifiers; "
        "without it a file's image is the one named like the file, else the one the file names",
    )
    parser.add_argument(
        "--image-map-columns", default="annotation,image", help="the two --image-map columns, e.g. gt,image"
    )
    parser.add_argument("--crop", choices=("mask", "rect"), default="mask", help="poly: mask or x,y,w,h box")
    parser.add_argument("--background", type=colour, default=(255, 255, 255), help="fill for readers, R,G,B")
    parser.add_argument("--deskew", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--size", default="max", help="IIIF size segment, e.g. max or ,64")
    parser.add_argument("--margin", type=float, default=0.0, help="grow each polygon by this many pixels")
    parser.add_argument("--splits", default="0.8,0.1,0.1", help="train,val,test ratios (by page)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--retries", type=int, default=3, help="retries on network errors, 5xx and 429")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--min-chars", type=int, default=1, help="skip lines with shorter text")
    parser.add_argument("--region-types", default="TextLine,line", help="comma-separated region types")
    parser.add_argument(
        "--exclude-types",
        default="",
        help="comma-separated structure types to leave out, whole or either side of the colon "
        "(SegmOnto: Handwritten,Signature leaves out DefaultLine:Handwritten and DefaultLine:Signature)",
    )
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=None, help="default: on a terminal"
    )
    parser.set_defaults(run=build)
