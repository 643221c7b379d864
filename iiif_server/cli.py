"""`iiif-server`: serve the images, convert an image to a pyramid, write the samples, read an annotation file,
run a job worker. Training and its data are `iiif-train`'s (models/cli.py)."""

import argparse
import sys
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.types import ASGIApp

from .settings import DEFAULT_IMAGE_ROOT, Settings

if TYPE_CHECKING:
    from extensions.server_settings import ServerSettings

# The training commands moved to `iiif-train`; `iiif-server` still runs them, with a note, for one release.
MOVED_TO_IIIF_TRAIN = frozenset({"synth", "dataset", "train", "evaluate"})


def serve_settings(args: argparse.Namespace) -> "ServerSettings":
    """The settings from the environment, with `--images`, `--host`, `--port` and `--workers` over them."""
    from extensions.server_settings import ServerSettings

    settings = ServerSettings.from_env()
    given = {
        "image_root": Path(args.images).resolve() if args.images else None,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
    }
    core = replace(settings.core, **{name: value for name, value in given.items() if value is not None})
    return replace(settings, core=core)


def server_app(settings: "ServerSettings", core: Settings) -> ASGIApp:
    """The full server on `settings`, with `core` as its core settings (a gunicorn worker's own)."""
    from extensions.server import create_server_app

    return create_server_app(replace(settings, core=core))


def serve(args: argparse.Namespace) -> None:
    """Start uvicorn (one worker) or gunicorn with uvicorn workers (several; 0: one per CPU core). A setting
    the server cannot start with stops it with its reason."""
    try:
        settings = serve_settings(args)
    except ValueError as error:
        sys.exit(f"iiif-server serve: {error}")
    core = settings.core
    if core.workers != 1:
        from .gunicorn_server import GunicornServer

        GunicornServer(core, partial(server_app, settings)).run()
        return
    import uvicorn

    from .http_protocol import header_deadline_protocol
    from .request_log import configure_logging

    configure_logging(core.service.log_format)
    try:
        app = server_app(settings, core)
    except ValueError as error:
        sys.exit(f"iiif-server serve: {error}")
    uvicorn.run(
        app,
        host=core.host,
        port=core.port,
        log_level="info",
        access_log=False,
        http=header_deadline_protocol(core.service.header_timeout),
        timeout_keep_alive=core.service.keepalive_timeout,
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
    from extensions.server_settings import ServerSettings

    try:
        settings = ServerSettings.from_env().jobs
    except ValueError as error:
        sys.exit(f"iiif-server worker: {error}")
    if not settings.redis_url:
        sys.exit("iiif-server worker needs REDIS_URL")
    from redis import Redis
    from rq import Queue, SimpleWorker

    # SimpleWorker runs jobs in this process, so the models are loaded once, not in a fork per page.
    connection = Redis.from_url(settings.redis_url)
    queue = Queue(args.queue or settings.queue, connection=connection)
    SimpleWorker([queue], connection=connection, name=args.name).work(burst=args.burst)


def run_moved_command(argv: list[str]) -> None:
    """Run a training command given to `iiif-server` as `iiif-train` would, after saying so."""
    command = argv[0]
    print(
        f"note: `iiif-server {command}` is now `iiif-train {command}` (the old name goes next release)",
        file=sys.stderr,
    )
    try:
        from models.cli import main as iiif_train
    except ModuleNotFoundError:
        sys.exit("the training commands are not part of this installation (models/ is missing)")
    iiif_train(argv)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] and argv[0] in MOVED_TO_IIIF_TRAIN:
        run_moved_command(argv)
        return
    parser = argparse.ArgumentParser(prog="iiif-server", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="start the server")
    serve_parser.add_argument("--host")
    serve_parser.add_argument("--port", type=int)
    serve_parser.add_argument(
        "--workers", type=int, help="other than 1 runs gunicorn (uvicorn workers); 0: one per CPU core"
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
    args = parser.parse_args(argv)
    args.run(args)
