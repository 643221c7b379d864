"""`iiif-server`: serve the images, convert an image to a pyramid, or write the samples."""

import argparse
import os
import sys
from pathlib import Path

from .settings import DEFAULT_IMAGE_ROOT, Settings

APP_FACTORY = "extensions.server:create_server_app"


def serve(args: argparse.Namespace) -> None:
    """Start uvicorn (one worker) or gunicorn with uvicorn workers (several)."""
    if args.images:
        os.environ["IIIF_IMAGE_ROOT"] = str(Path(args.images).resolve())
    settings = Settings.from_env()
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if workers > 1:
        os.execvp(
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"{APP_FACTORY}()",
                "--worker-class",
                "uvicorn_worker.UvicornWorker",
                "--workers",
                str(workers),
                "--bind",
                f"{host}:{port}",
            ],
        )
    import uvicorn

    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, log_level="info")


def convert(args: argparse.Namespace) -> None:
    """Write a tiled pyramidal TIFF."""
    from .convert import convert_to_pyramid

    print(convert_to_pyramid(Path(args.source), Path(args.target), args.tile_size))


def samples(args: argparse.Namespace) -> None:
    """Generate the sample images."""
    from .samples import generate_samples

    for path in generate_samples(Path(args.folder)):
        print(f"wrote {path}")


def regions(args: argparse.Namespace) -> None:
    """Print the regions of an annotation file (any supported format) as JSON lines."""
    import dataclasses
    import json

    from extensions.annotations import AnnotationError, load_annotations

    size = tuple(int(v) for v in args.image_size.split("x")) if args.image_size else None
    try:
        found = load_annotations(Path(args.file), size)  # type: ignore[arg-type]
    except AnnotationError as error:
        sys.exit(f"{args.file}: {error}")
    for region in found:
        print(json.dumps(dataclasses.asdict(region)))


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="iiif-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the server")
    serve_parser.add_argument("--host")
    serve_parser.add_argument("--port", type=int)
    serve_parser.add_argument("--workers", type=int, help="more than 1 runs gunicorn with uvicorn workers")
    serve_parser.add_argument("--images", help="folder of images (IIIF_IMAGE_ROOT)")
    serve_parser.set_defaults(run=serve)
    convert_parser = commands.add_parser("convert", help="make a tiled pyramidal TIFF")
    convert_parser.add_argument("source")
    convert_parser.add_argument("target")
    convert_parser.add_argument("--tile-size", type=int, default=512)
    convert_parser.set_defaults(run=convert)
    samples_parser = commands.add_parser("samples", help="write the sample images")
    samples_parser.add_argument("--folder", default=str(DEFAULT_IMAGE_ROOT))
    samples_parser.set_defaults(run=samples)
    regions_parser = commands.add_parser(
        "regions", help="read an annotation file (PAGE, ALTO, W3C, IIIF, JSON)"
    )
    regions_parser.add_argument("file")
    regions_parser.add_argument("--image-size", help="WIDTHxHEIGHT, needed for percent coordinates")
    regions_parser.set_defaults(run=regions)
    args = parser.parse_args(argv)
    args.run(args)
