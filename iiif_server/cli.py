"""`iiif-server`: serve the images, convert an image to a pyramid, write the samples; make synthetic pages,
build datasets, train, export and evaluate the OCR models."""

import argparse
import os
import sys
from pathlib import Path

from models.commands import register as register_model_commands

from .settings import DEFAULT_IMAGE_ROOT, Settings

APP_FACTORY = "extensions.server:create_server_app"
GUNICORN_CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def serve(args: argparse.Namespace) -> None:
    """Start uvicorn (one worker) or gunicorn with uvicorn workers (several)."""
    if args.images:
        os.environ["IIIF_IMAGE_ROOT"] = str(Path(args.images).resolve())
    settings = Settings.from_env()
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers if args.workers is not None else settings.workers
    if workers != 1:  # 0: gunicorn.conf.py picks the number from the CPU cores
        config = ["-c", str(GUNICORN_CONF)] if GUNICORN_CONF.is_file() else []
        os.execvp(
            sys.executable,
            [
                sys.executable,
                "-m",
                "gunicorn",
                *config,
                f"{APP_FACTORY}()",
                "--worker-class",
                "iiif_server.gunicorn_worker.IIIFUvicornWorker",
                *(["--workers", str(workers)] if workers > 0 else []),
                "--bind",
                f"{host}:{port}",
            ],
        )
    import uvicorn

    from .http_protocol import header_deadline_protocol
    from .request_log import configure_logging

    configure_logging(settings.service.log_format)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        http=header_deadline_protocol(settings.service.header_timeout),
        timeout_keep_alive=settings.service.keepalive_timeout,
    )


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


def worker(args: argparse.Namespace) -> None:
    """Run an RQ worker for whole-document jobs on REDIS_URL (`IIIF_JOBS_BACKEND=rq`)."""
    from extensions.job_settings import JobSettings

    settings = JobSettings.from_env()
    if not settings.redis_url:
        sys.exit("iiif-server worker needs REDIS_URL")
    from redis import Redis
    from rq import Queue, SimpleWorker

    # SimpleWorker runs jobs in this process, so the models are loaded once, not in a fork per page.
    connection = Redis.from_url(settings.redis_url)
    queue = Queue(args.queue or settings.queue, connection=connection)
    SimpleWorker([queue], connection=connection, name=args.name).work(burst=args.burst)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="iiif-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the server")
    serve_parser.add_argument("--host")
    serve_parser.add_argument("--port", type=int)
    serve_parser.add_argument(
        "--workers", type=int, help="more than 1 runs gunicorn (gunicorn.conf.py); 0: one per CPU core"
    )
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
    worker_parser = commands.add_parser("worker", help="run an RQ worker for /jobs pages (needs REDIS_URL)")
    worker_parser.add_argument("--queue", help="queue name (IIIF_JOBS_QUEUE, default iiif-jobs)")
    worker_parser.add_argument("--name", help="worker name (default: RQ's)")
    worker_parser.add_argument("--burst", action="store_true", help="quit once the queue is empty")
    worker_parser.set_defaults(run=worker)
    register_model_commands(commands)
    args = parser.parse_args(argv)
    args.run(args)
